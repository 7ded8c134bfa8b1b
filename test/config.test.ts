// The config file is parsed by one zod schema (src/config/schema.ts): unknown keys are refused with
// the nearest known key, database schemes, time zones and cron expressions are checked at load,
// secrets are refused anywhere (also a password in the PostgreSQL URL), clients are checked as the
// import checks them. The published JSON Schema is the schema's own output, and an independent
// validator (ajv) agrees with it on the shipped configs.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { defaultConfigJson, nearestKey, parseConfig } from '../src/config/config.js';
import { configJsonSchema } from '../src/config/schema.js';
import { LdmError } from '../src/errors.js';

const ROOT = join(__dirname, '..');
const FILE = '/tmp/ldm-batch.config.json';
const client = { clientId: 'fin', cbeNumber: '0308357159', sector: 17, name: 'FIN', authorizations: [{ service: 'LivingWagesWithAmount', legalContext: 'X', qualityCodes: [1] }] };
const sftp = { host: 'h', username: 'u', privateKeyFile: 'k', hostKeyFingerprint: 'SHA256:x' };

function refusal(raw: unknown): LdmError {
  try {
    parseConfig(raw, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(LdmError);
    return e as LdmError;
  }
  throw new Error('the config was accepted');
}

describe('config: bad configs are refused with their message (exit 2)', () => {
  it.each([
    // unknown keys, with the nearest known key at that place
    ['a misspelled top-level key', { shutdownGraceSecond: 30 }, 'CONFIG', /unknown key "shutdownGraceSecond" — did you mean "shutdownGraceSeconds"\?/],
    ['a misspelled nested key', { spool: { transport: 'sftp', sftp: { ...sftp, hostKeyFingerprnt: 'x' } } }, 'CONFIG', /unknown key "spool\.sftp\.hostKeyFingerprnt" — did you mean "hostKeyFingerprint"\?/],
    ['a misspelled key in a client', { clients: [{ ...client, schedul: '* * * * *' }] }, 'CONFIG', /unknown key "clients\[0\]\.schedul" — did you mean "schedule"\?/],
    ['a key like nothing known', { colour: 'blue' }, 'CONFIG', /unknown key "colour" \(known: instanceId, /],
    // database schemes
    ['a MySQL URL', { database: 'mysql://x' }, 'CONFIG', /database has the unsupported scheme "mysql:\/\/"; use postgres:\/\//],
    ['an http URL', { database: 'http://db.example/x' }, 'CONFIG', /unsupported scheme "http:\/\/"/],
    ['a password in the PostgreSQL URL', { database: 'postgres://ldm:s3cret@db/ldm' }, 'CONFIG_SECRET', /"database" holds a password in its URL; .*PGPASSWORD.*databasePasswordFile/],
    ['a password in a postgresql:// URL', { database: 'postgresql://ldm:@db/ldm' }, 'CONFIG_SECRET', /holds a password/],
    // time zone and cron, at load (not later in the daemon or process)
    ['an unknown time zone', { timezone: 'Europe/Bruxelles' }, 'CONFIG', /timezone "Europe\/Bruxelles" is not a time zone this Node\.js knows/],
    ['a schedule that is not cron', { schedule: 'every 5 minutes' }, 'CONFIG', /schedule "every 5 minutes" is not a valid cron expression \(expression: expected 5 or 6 fields/],
    ['a minute out of range', { schedule: '61 * * * *' }, 'CONFIG', /schedule "61 \* \* \* \*" is not a valid cron expression \(minute: /],
    ['a bad notifySchedule', { notifySchedule: 'never' }, 'CONFIG', /notifySchedule/],
    ["a client's impossible schedule", { clients: [{ ...client, schedule: '0 0 30 2 *' }] }, 'CONFIG', /clients\[0\]\.schedule "0 0 30 2 \*" is not a valid cron expression/],
    // secrets
    ['a password at the top', { password: 'x' }, 'CONFIG_SECRET', /password.*looks like a secret/],
    ['a passphrase nested in spool.sftp', { spool: { transport: 'sftp', sftp: { ...sftp, passphrase: 'p' } } }, 'CONFIG_SECRET', /spool\.sftp\.passphrase/],
    ['key material in a value', { signing: { keyFile: '-----BEGIN PRIVATE KEY-----\nabc' } }, 'CONFIG_SECRET', /holds a private key/],
    // types and values
    ['an environment that does not exist', { environment: 'PRODUCTION' }, 'CONFIG', /environment must be PROD, ACPT or TEST/],
    ['sftp without its settings', { spool: { transport: 'sftp' } }, 'CONFIG', /spool\.sftp is required when spool\.transport is "sftp"/],
    ['sftp without a pinned host key', { spool: { transport: 'sftp', sftp: { host: 'h', username: 'u', privateKeyFile: 'k' } } }, 'CONFIG', /host key must be pinned/],
    ['a lease of 0', { leaseSeconds: 0 }, 'CONFIG', /leaseSeconds must be a positive number/],
    ['a string for a number', { shutdownGraceSeconds: '30' }, 'CONFIG', /shutdownGraceSeconds must be a positive number/],
    // clients, as `import clients` checks them
    ['a client id that is not a folder name', { clients: [{ ...client, clientId: '../x' }] }, 'CONFIG', /clients\[0\]\.clientId must be 1-64/],
    ['a client id ".."', { clients: [{ ...client, clientId: '..' }] }, 'CONFIG', /must not be "\." or "\.\."/],
    ['a client CBE with wrong check digits', { clients: [{ ...client, cbeNumber: '0308357158' }] }, 'CONFIG', /"0308357158" is not a valid 10-digit CBE/],
    ['an unknown field in a profile', { clients: [{ ...client, authorizations: [{ ...client.authorizations[0], fields: ['Year', 'iban'] }] }] }, 'CONFIG', /unknown field name\(s\) iban/],
    ['an unknown service', { clients: [{ ...client, authorizations: [{ ...client.authorizations[0], service: 'Pensions' }] }] }, 'CONFIG', /unknown service "Pensions"/],
  ])('%s', (_name, raw, code, message) => {
    const err = refusal(raw);
    expect(err.code).toBe(code);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${FILE}: `)).toBe(true);
  });

  it('reports every problem at once', () => {
    const err = refusal({ shutdownGraceSecond: 1, timezone: 'Mars/Olympus', environment: 'X' });
    expect(err.message).toMatch(/and 2 more/);
    expect(err.message).toMatch(/shutdownGraceSecond/);
    expect(err.message).toMatch(/Mars\/Olympus/);
    expect(err.message).toMatch(/environment/);
  });
});

describe('config: what is accepted', () => {
  it('references to secrets (…File, …Env), a password file for PostgreSQL and a valid client', () => {
    const c = parseConfig({ database: 'postgres://ldm@db:5432/ldm', databasePasswordFile: './db.pass', spool: { transport: 'sftp', root: '/spool', sftp: { ...sftp, passphraseEnv: 'LDM_PASS' } }, clients: [client] }, FILE);
    expect(c.spool.sftp?.passphraseEnv).toBe('LDM_PASS');
    expect(c.databasePasswordFile).toBe('/tmp/db.pass');
    expect(c.clients[0]).toEqual({ clientId: 'fin', cbeNumber: '0308357159', sector: 17, name: 'FIN', authorizations: [{ service: 'LivingWagesWithAmount', legalContext: 'X', qualityCodes: [1], deliberation: null, fields: [] }] });
  });

  it('defaults: an empty config is the local embedded instance', () => {
    const c = parseConfig({}, FILE);
    expect(c).toMatchObject({ instanceId: 'ldm-1', environment: 'PROD', database: '/tmp/data/ldm-batch.sqlite', schedule: '*/5 * * * *', timezone: 'Europe/Brussels', leaseSeconds: 120, shutdownGraceSeconds: 30 });
    expect(c.spool).toEqual({ transport: 'local', root: '/tmp/spool', minAgeSeconds: 0, sftp: undefined });
  });

  it('the SQLite forms: a path, or sqlite:path', () => {
    expect(parseConfig({ database: 'sqlite:./a.sqlite' }, FILE).database).toBe('/tmp/a.sqlite');
    expect(parseConfig({ database: '/var/lib/ldm/x.sqlite' }, FILE).database).toBe('/var/lib/ldm/x.sqlite');
  });

  it('nearestKey suggests a plausible typo only', () => {
    expect(nearestKey('shutdownGraceSecond', ['leaseSeconds', 'shutdownGraceSeconds'])).toBe('shutdownGraceSeconds');
    expect(nearestKey('TimeZone', ['timezone', 'schedule'])).toBe('timezone');
    expect(nearestKey('colour', ['timezone', 'schedule'])).toBeUndefined();
  });
});

describe('the published JSON Schema (schemas/ldm-batch.config.schema.json)', () => {
  const published = JSON.parse(readFileSync(join(ROOT, 'schemas', 'ldm-batch.config.schema.json'), 'utf8')) as Record<string, unknown>;

  it('is what the zod schema generates (run `node scripts/config-schema.mjs` after changing it)', () => {
    expect(published).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it('an independent validator (ajv) accepts the shipped configs and refuses an unknown key', () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    const validate = ajv.compile(published);
    const example = JSON.parse(readFileSync(join(ROOT, 'deploy', 'ldm-batch.config.example.json'), 'utf8')) as unknown;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(defaultConfigJson())).toBe(true);
    expect(validate({ shutdownGraceSecond: 30 })).toBe(false);
    expect(validate({ environment: 'PRODUCTION' })).toBe(false);
  });
});
