#!/usr/bin/env bash
# Installs what the tests use from Debian when it is missing and we are allowed to (root with
# apt-get): OpenSSH's sshd for SFTP tests, xmlsec1 and xmllint as independent checkers,
# python-stdnum (be.nn) as the independent SSIN check of test/domain/ssin-stdnum.test.ts,
# pdftotext (poppler-utils) to read the audit export's PDF back, and systemd-analyze for the unit
# file of deploy/.
# Without them the tests that need them say they were skipped; nothing else depends on this.
set -uo pipefail
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v xmlsec1 >/dev/null || need+=(xmlsec1)
command -v xmllint >/dev/null || need+=(libxml2-utils)
/usr/bin/python3 -c 'import stdnum.be.nn' 2>/dev/null || need+=(python3-stdnum)
# pdftotext reads back the citizen's PDF export (test/audit/export.test.ts).
command -v pdftotext >/dev/null || need+=(poppler-utils)
# systemd-analyze checks deploy/ldm-batch.service (test/deploy); the unit is only verified, never started.
command -v systemd-analyze >/dev/null || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test-setup: installing ${need[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >&2 \
      || echo "test-setup: could not install ${need[*]}; the tests that need them will be skipped" >&2
  else
    echo "test-setup: missing ${need[*]} (not root or no apt-get); the tests that need them will be skipped" >&2
  fi
fi
# PostgreSQL: start the local cluster if one is installed but down (tests that need it skip otherwise).
if command -v pg_ctlcluster >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    for v in $(ls /etc/postgresql 2>/dev/null); do pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 || true; done
  fi
fi
exit 0
