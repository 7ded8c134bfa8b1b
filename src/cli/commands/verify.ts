import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { verifyResponse } from '../../response/verify.js';
import { configPath, loadConfig } from '../../config/config.js';
import { LdmError } from '../../errors.js';
import { print, printJson } from '../output.js';

/** The certificate to trust: --cert, else the configured signing certificate when a config exists. */
function trustedCert(o: { cert?: string; config?: string }): { pem?: string; source: string } {
  if (o.cert) {
    const p = resolve(o.cert);
    if (!existsSync(p)) throw new LdmError('NO_FILE', `certificate ${p} does not exist`, { exitCode: 2 });
    return { pem: readFileSync(p, 'utf8'), source: p };
  }
  if (existsSync(configPath(o.config))) {
    const cfg = loadConfig(o.config);
    if (existsSync(cfg.signing.certFile)) return { pem: readFileSync(cfg.signing.certFile, 'utf8'), source: cfg.signing.certFile };
  }
  return { source: 'none (integrity only: pass --cert to check who signed)' };
}

export async function runVerify(response: string, o: { cert?: string; json?: boolean; config?: string }): Promise<void> {
  const path = resolve(response);
  if (!existsSync(path)) throw new LdmError('NO_FILE', `response file ${path} does not exist`, { exitCode: 2 });
  const trusted = trustedCert(o);
  const result = await verifyResponse(path, { trustedCertPem: trusted.pem });
  if (o.json) printJson({ file: path, trustedCertificate: trusted.source, ...result });
  else if (result.ok) {
    print(`OK: ${path}`);
    print(`  signed by ${result.signerSubject} (SHA-256 ${result.signerFingerprint256})`);
    print(`  trusted certificate: ${trusted.source}`);
    print(`  InReplyTo/NotificationId ${result.fileId ?? '-'}, ${result.recordCount} line(s)`);
  } else {
    print(`INVALID: ${path}`);
    print(`  ${result.reason}`);
  }
  if (!result.ok) process.exitCode = 1;
}
