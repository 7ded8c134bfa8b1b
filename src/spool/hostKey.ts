// Host key pinning for the SFTP spool: OpenSSH-compatible fingerprints and known_hosts lookup.
// ldm-batch never trusts a server on first use; the key must be pinned in the config.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerHostKeyAlgorithm } from 'ssh2';

/** `SHA256:<base64 without padding>` of the SSH wire-format key blob, exactly like `ssh-keygen -lf`. */
export function fingerprintOf(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The key type named inside the blob (its first SSH string), e.g. `ssh-ed25519`. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return len > 0 && 4 + len <= key.length ? key.subarray(4, 4 + len).toString('latin1') : 'unknown';
}

/** Normalises a configured fingerprint for comparison (trailing `=` are optional in the config). */
export function normalizeFingerprint(fp: string): string | null {
  const m = /^SHA256:([A-Za-z0-9+/]{43})=*$/.exec(fp.trim());
  return m ? `SHA256:${m[1]}` : null;
}

export function fingerprintsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface KnownHostEntry {
  marker: '@revoked' | '@cert-authority' | null;
  /** The comma-separated host patterns as written (plain, negated, wildcard or hashed `|1|salt|hash`). */
  hosts: string;
  keyType: string;
  key: Buffer;
  line: number;
}

/** Parses an OpenSSH known_hosts file; lines it cannot read are skipped like OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (parts[0].startsWith('@')) {
      const m = parts.shift() as string;
      if (m !== '@revoked' && m !== '@cert-authority') return;
      marker = m;
    }
    if (parts.length < 3) return;
    const [hosts, keyType, b64] = parts;
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return;
    out.push({ marker, hosts, keyType, key: Buffer.from(b64, 'base64'), line: i + 1 });
  });
  return out;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name)) — the format of `ssh-keygen -H` / HashKnownHosts.
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  const want = Buffer.from(hash, 'base64');
  return want.length === mac.length && timingSafeEqual(want, mac);
}

/** Whether an entry's host field applies to `name` (negated patterns veto, as in OpenSSH). */
export function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedMatches(hosts, name);
  let matched = false;
  for (const p of hosts.split(',')) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(name)) return false;
    } else if (globToRegExp(p).test(name)) {
      matched = true;
    }
  }
  return matched;
}

export type HostKeyVerdict =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; expected: string[] };

/** Checks a presented key against the known_hosts entries for host/port. */
export function checkKnownHosts(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && hostsFieldMatches(e.hosts, name));
  if (mine.some((e) => e.marker === '@revoked' && e.key.equals(key))) {
    return { ok: false, reason: 'revoked', expected: [] };
  }
  const plain = mine.filter((e) => e.marker === null);
  if (plain.some((e) => e.key.equals(key))) return { ok: true };
  return { ok: false, reason: plain.length === 0 ? 'unknown' : 'changed', expected: plain.map((e) => `${e.keyType} ${fingerprintOf(e.key)}`) };
}

const ALGORITHMS_BY_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * The host key algorithms to offer so that the server presents a key we know (what the OpenSSH
 * client does): a server with several host keys might otherwise show one that is not pinned.
 * Undefined when nothing is known (keep ssh2's defaults).
 */
export function preferredHostKeyAlgorithms(entries: readonly KnownHostEntry[], host: string, port: number): ServerHostKeyAlgorithm[] | undefined {
  const name = knownHostsName(host, port);
  const algos: ServerHostKeyAlgorithm[] = [];
  for (const e of entries) {
    if (e.marker !== null || !hostsFieldMatches(e.hosts, name)) continue;
    for (const a of ALGORITHMS_BY_KEY_TYPE[e.keyType] ?? []) if (!algos.includes(a)) algos.push(a);
  }
  return algos.length > 0 ? algos : undefined;
}
