// The config file refuses secrets (anywhere in it) and clients the import would refuse too.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { LdmError } from '../src/errors.js';

const client = { clientId: 'fin', cbeNumber: '0308357159', sector: 17, name: 'FIN', authorizations: [{ service: 'LivingWagesWithAmount', legalContext: 'X', qualityCodes: [1] }] };

describe('config', () => {
  it.each([
    ['a password at the top', { password: 'x' }, /password.*looks like a secret/],
    ['a passphrase nested in spool.sftp', { spool: { transport: 'sftp', sftp: { host: 'h', username: 'u', privateKeyFile: 'k', hostKeyFingerprint: 'SHA256:x', passphrase: 'p' } } }, /spool\.sftp\.passphrase/],
    ['key material in a value', { signing: { keyFile: '-----BEGIN PRIVATE KEY-----\nabc' } }, /holds a private key/],
    ['a client id that is not a folder name', { clients: [{ ...client, clientId: '../x' }] }, /clientId must be/],
    ['a client CBE with wrong check digits', { clients: [{ ...client, cbeNumber: '0308357158' }] }, /not a valid 10-digit CBE/],
    ['an unknown field in a profile', { clients: [{ ...client, authorizations: [{ ...client.authorizations[0], fields: ['Year', 'iban'] }] }] }, /unknown field name\(s\) iban/],
  ])('refuses %s (exit 2)', (_name, raw, message) => {
    let err: unknown;
    try {
      parseConfig(raw, '/tmp/ldm-batch.config.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LdmError);
    expect((err as LdmError).exitCode).toBe(2);
    expect((err as LdmError).message).toMatch(message);
  });

  it('accepts references to secrets (…File, …Env) and a valid client', () => {
    const c = parseConfig(
      { spool: { transport: 'sftp', root: '/spool', sftp: { host: 'h', username: 'u', privateKeyFile: 'k', passphraseEnv: 'LDM_PASS', hostKeyFingerprint: 'SHA256:x' } }, clients: [client] },
      '/tmp/ldm-batch.config.json',
    );
    expect(c.spool.sftp?.passphraseEnv).toBe('LDM_PASS');
    expect(c.clients[0].cbeNumber).toBe('0308357159');
  });
});
