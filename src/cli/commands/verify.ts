import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { verifyResponse } from '../../response/verify.js';
import { configPath, loadConfig } from '../../config/config.js';
import { LdmError } from '../../errors.js';
import { print, printJson } from '../output.js';

/**
 * The certificate to trust (contract §9): --cert, else the configured signing certificate.
 * Trust is never implied: without either, the command refuses (exit 2) unless the caller asks
 * for an integrity check alone.
 */
function trustedCert(o: { cert?: string; config?: string; integrityOnly?: boolean }): { pem?: string; source: string } {
  if (o.integrityOnly) {
    if (o.cert) throw new LdmError('USAGE', '--cert and --integrity-only exclude each other: --cert checks who signed, --integrity-only does not', { exitCode: 2 });
    return { source: 'none (--integrity-only: who signed is not checked)' };
  }
  if (o.cert) {
    const p = resolve(o.cert);
    if (!existsSync(p)) throw new LdmError('NO_FILE', `certificate ${p} does not exist`, { exitCode: 2 });
    return { pem: readFileSync(p, 'utf8'), source: p };
  }
  if (existsSync(configPath(o.config))) {
    const cfg = loadConfig(o.config);
    if (existsSync(cfg.signing.certFile)) return { pem: readFileSync(cfg.signing.certFile, 'utf8'), source: cfg.signing.certFile };
  }
  throw new LdmError(
    'NO_TRUST_ANCHOR',
    'no trusted certificate: pass --cert <signer.pem> (the certificate the sender gave you), or --config <file> whose signing.certFile exists; ' +
      'or --integrity-only to check only that the file is unchanged since it was signed (anyone can sign with their own key)',
    { exitCode: 2 },
  );
}

export async function runVerify(response: string, o: { cert?: string; json?: boolean; config?: string; integrityOnly?: boolean }): Promise<void> {
  const path = resolve(response);
  if (!existsSync(path)) throw new LdmError('NO_FILE', `response file ${path} does not exist`, { exitCode: 2 });
  const trusted = trustedCert(o);
  const result = await verifyResponse(path, { trustedCertPem: trusted.pem });
  if (o.json) printJson({ file: path, trustedCertificate: trusted.source, ...result });
  else if (result.ok) {
    print(`${result.trusted ? 'OK' : 'INTACT (not trusted)'}: ${path}`);
    print(`  signed by ${result.signerSubject} (SHA-256 ${result.signerFingerprint256})`);
    print(`  trusted certificate: ${trusted.source}; trusted: ${result.trusted}`);
    print(`  file id (InReplyTo, ExtractId or NotificationId) ${result.fileId ?? '-'}, ${result.recordCount} line(s), signed at ${result.signedAt ?? '-'}`);
  } else {
    print(`INVALID: ${path}`);
    print(`  ${result.reason}`);
  }
  if (!result.ok) process.exitCode = 1;
}
