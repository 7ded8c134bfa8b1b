// The config file's schema: the one source of its keys, defaults, checks and TypeScript types.
// schemas/ldm-batch.config.schema.json is generated from it (scripts/config-schema.mjs) for
// editors and reviews; the program itself only ever parses with this zod schema.
import { z } from 'zod';
import cron from 'node-cron';
import { isValidCbe } from '../domain/cbe.js';
import { SERVICES } from '../interfaces.js';
import { declarationOf } from '../services/declarations.js';
import { NOTIFICATION_SERVICE } from '../notifications/subscriptions.js';
import { parseFileMode, type FileMode } from '../files/modes.js';
import { DEFAULT_RETRY } from '../pipeline/retryPolicy.js';

const nonEmpty = (what = 'a non-empty string') => z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });
const wholeAtLeast0 = z.number({ error: 'must be a whole number ≥ 0' }).int({ error: 'must be a whole number ≥ 0' }).min(0, { error: 'must be a whole number ≥ 0' });
const positive = z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' });
const positiveMs = z.number({ error: 'must be a positive number of milliseconds' }).int({ error: 'must be a whole number of milliseconds' }).positive({ error: 'must be a positive number of milliseconds' });
const port = (allowZero: boolean) =>
  z.number({ error: `must be a port number (${allowZero ? '0 for any free port, ' : ''}1-65535)` }).int().min(allowZero ? 0 : 1).max(65535, { error: 'must be a port number (1-65535)' });

/** Why a cron expression cannot run, or null when node-cron accepts it (5 fields, or 6 with seconds). */
export function cronProblem(expr: string): string | null {
  const v = cron.validateDetailed(expr);
  if (v.valid) return null;
  return `"${expr}" is not a valid cron expression (${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}); e.g. "*/5 * * * *" is every 5 minutes, "*/30 * * * * *" every 30 seconds`;
}

/** Whether Node.js (ICU) knows the IANA time zone. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const cronExpr = nonEmpty().superRefine((expr, ctx) => {
  const why = cronProblem(expr);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

/** PostgreSQL by URL, or an SQLite file path (optionally `sqlite:path`); any other URL scheme is refused. */
const database = nonEmpty()
  .superRefine((v, ctx) => {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(v)?.[1];
    if (scheme === undefined) return;
    if (!/^postgres(ql)?$/i.test(scheme)) {
      ctx.addIssue({ code: 'custom', message: `has the unsupported scheme "${scheme}://"; use postgres://user@host:5432/db (PostgreSQL) or a file path (SQLite)` });
      return;
    }
    try {
      new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not a valid postgres:// URL' });
    }
  })
  .meta({ description: 'an SQLite file path (relative to the config), or a postgres:// URL without a password (PGPASSWORD or databasePasswordFile)' });

const retrySchema = z
  .strictObject({
    maxRetries: wholeAtLeast0.optional(),
    baseDelayMs: positiveMs.optional(),
    maxDelayMs: positiveMs.optional(),
  }, { error: 'must be an object like {"maxRetries": 6, "baseDelayMs": 500, "maxDelayMs": 30000}' })
  .superRefine((r, ctx) => {
    if (r.baseDelayMs !== undefined && r.maxDelayMs !== undefined && r.maxDelayMs < r.baseDelayMs) {
      ctx.addIssue({ code: 'custom', path: ['maxDelayMs'], message: `(${r.maxDelayMs}) must not be below baseDelayMs (${r.baseDelayMs})` });
    }
  })
  .meta({ description: 'reconnects per SFTP operation when the connection drops; exponential backoff with jitter, then SFTP_UNREACHABLE' });

const sftpSchema = z
  .strictObject({
    host: nonEmpty(),
    port: port(false).default(22),
    username: nonEmpty(),
    privateKeyFile: nonEmpty().meta({ description: 'private key file (OpenSSH or PEM), mode 0600' }),
    passphraseEnv: nonEmpty().optional().meta({ description: 'environment variable holding the key passphrase' }),
    passphraseFile: nonEmpty().optional().meta({ description: 'file holding the key passphrase (mode 0600)' }),
    hostKeyFingerprint: nonEmpty().optional().meta({ description: 'the server host key, SHA256:… as printed by ssh-keygen -lf' }),
    knownHostsFile: nonEmpty().optional(),
    readyTimeoutMs: positive.default(10_000),
    retry: retrySchema.optional(),
    keepaliveIntervalMs: wholeAtLeast0.optional().meta({ description: 'SSH keepalive interval, 0 = off (default 15000)' }),
  }, { error: 'must be an object (required when spool.transport is "sftp")' })
  .superRefine((s, ctx) => {
    if (!s.hostKeyFingerprint && !s.knownHostsFile) {
      ctx.addIssue({ code: 'custom', message: "set hostKeyFingerprint (SHA256:…) or knownHostsFile — the server's host key must be pinned, ldm-batch never connects blindly" });
    }
  });

const spoolSchema = z
  .strictObject({
    transport: z.enum(['local', 'sftp'], { error: 'must be "local" or "sftp"' }).default('local'),
    root: nonEmpty().optional().meta({ description: 'local folder (relative to the config), or the path on the SFTP server; default ./spool or /' }),
    minAgeSeconds: z.number({ error: 'must be a number ≥ 0' }).min(0, { error: 'must be a number ≥ 0' }).default(0),
    sftp: sftpSchema.optional(),
  }, { error: 'must be an object' })
  .superRefine((s, ctx) => {
    if (s.transport === 'sftp' && !s.sftp) ctx.addIssue({ code: 'custom', path: ['sftp'], message: 'is required when spool.transport is "sftp"' });
  });

const qualityCode = z.union([z.number(), z.string().regex(/^\d{1,3}$/)], { error: 'must be a quality code number' }).transform(Number);

const authorizationSchema = z
  .strictObject({
    service: z.enum([NOTIFICATION_SERVICE, ...SERVICES], { error: (iss) => `unknown service "${String(iss.input)}"` }),
    legalContext: nonEmpty(),
    qualityCodes: z.array(qualityCode).default([]),
    deliberation: z.string().nullable().default(null),
    fields: z.array(z.string()).default([]),
  }, { error: 'must be an object' })
  .superRefine((a, ctx) => {
    const unknown = declarationOf(a.service)?.unknownFields(a.fields) ?? [];
    if (unknown.length > 0) ctx.addIssue({ code: 'custom', path: ['fields'], message: `has unknown field name(s) ${unknown.join(', ')}` });
  });

const clientSchema = z.strictObject({
  // The same checks as `import clients`: the id names a spool folder, the CBE and sector are real.
  clientId: z
    .string({ error: 'must be 1-64 of A-Z a-z 0-9 . _ - (it names the spool folder)' })
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 of A-Z a-z 0-9 . _ - (it names the spool folder)' })
    .refine((v) => v !== '.' && v !== '..', { error: 'must not be "." or ".." (it names the spool folder)' }),
  cbeNumber: z.string({ error: 'must be a 10-digit CBE number' }).refine(isValidCbe, { error: (iss) => `"${String(iss.input)}" is not a valid 10-digit CBE number` }),
  sector: z.union([z.number().int(), z.string().regex(/^\d+$/)], { error: 'must be a number' }).transform(Number),
  name: nonEmpty().optional(),
  schedule: cronExpr.optional().meta({ description: "this client's own cron expression; other clients follow schedule" }),
  authorizations: z.array(authorizationSchema).default([]),
}, { error: 'must be an object' });

/**
 * A scheduled extract (contract §6d): the yearly push of one client's LivingWagesWithAmount data.
 * It runs under the client's authorization for `legalContext` (service LivingWagesWithAmount),
 * which must exist in the store when it runs (else EXTRACT_NOT_AUTHORIZED).
 */
const extractSchema = z
  .strictObject({
    clientId: z
      .string({ error: 'must be the client id of a client (1-64 of A-Z a-z 0-9 . _ -)' })
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be the client id of a client (1-64 of A-Z a-z 0-9 . _ -)' })
      .refine((v) => v !== '.' && v !== '..', { error: 'must not be "." or ".."' }),
    service: z.literal('LivingWagesWithAmount', { error: 'must be "LivingWagesWithAmount" (the only service with extracts, contract §6d)' }).default('LivingWagesWithAmount'),
    legalContext: nonEmpty().meta({ description: "the legal context of the client's LivingWagesWithAmount authorization the extract runs under (its quality codes, deliberation and fields apply)" }),
    period: z.literal('previous-year', { error: 'must be "previous-year"' }).default('previous-year').meta({ description: 'the year the extract covers: the year before its reference date' }),
    schedule: cronExpr.meta({ description: 'when the daemon runs it (cron, in timezone), e.g. "0 3 15 1 *" = 15 January at 03:00; it is written once per client and year whatever the schedule' }),
  }, { error: 'must be an object like {"clientId": "FIN", "legalContext": "FPS_FINANCE:TAX_ASSESSMENT", "schedule": "0 3 15 1 *"}' })
  .meta({ description: 'a scheduled extract (contract §6d): one signed out/EXTRACT-<clientId>-<year>.xml per client and year' });

const httpSchema = z
  .strictObject({
    port: port(true).meta({ description: '0 = any free port (logged as http.listening)' }),
    host: nonEmpty().default('127.0.0.1'),
  }, { error: 'must be an object like {"port": 9464}' })
  .meta({ description: 'serve /healthz and /metrics; absent = off' });

// The audit register's retention (README "Audit register"): entries are kept retentionYears,
// then the daemon purges them on retentionSchedule; `audit` and `audit export` read the last
// onlineMonths unless asked for more.
const auditSchema = z
  .strictObject({
    retentionYears: z.number({ error: 'must be a whole number of years, 1-100' }).int({ error: 'must be a whole number of years, 1-100' }).min(1, { error: 'must be a whole number of years, 1-100' }).max(100, { error: 'must be a whole number of years, 1-100' }).default(10)
      .meta({ description: 'years an audit entry is kept; older ones are purged by the daemon' }),
    onlineMonths: z.number({ error: 'must be a whole number of months, 1-120' }).int({ error: 'must be a whole number of months, 1-120' }).min(1, { error: 'must be a whole number of months, 1-120' }).max(120, { error: 'must be a whole number of months, 1-120' }).default(12)
      .meta({ description: 'the window `audit --ssin` and `audit export` show by default (older entries stay until retentionYears)' }),
    retentionSchedule: z
      .union([z.literal('off'), cronExpr])
      .default('30 3 * * *')
      .meta({ description: 'cron for the daemon retention run, in timezone; "off" = none (then run `audit purge`)' }),
  }, { error: 'must be an object like {"retentionYears": 10, "onlineMonths": 12, "retentionSchedule": "30 3 * * *"}' })
  .default({ retentionYears: 10, onlineMonths: 12, retentionSchedule: '30 3 * * *' });

export const configFileSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'path or URL of schemas/ldm-batch.config.schema.json, for editors' }),
    instanceId: z
      .string({ error: 'must be 1-64 of A-Z a-z 0-9 _ -' })
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be 1-64 of A-Z a-z 0-9 _ -' })
      .default('ldm-1')
      .meta({ description: 'names this instance in claim files, the journal and logs' }),
    environment: z.enum(['PROD', 'ACPT', 'TEST'], { error: 'must be PROD, ACPT or TEST' }).default('PROD'),
    database: database.default('./data/ldm-batch.sqlite'),
    databasePasswordFile: nonEmpty().optional().meta({ description: 'file (mode 0600) whose first line is the PostgreSQL password; else PGPASSWORD' }),
    spool: spoolSchema.default({ transport: 'local', minAgeSeconds: 0 }),
    signing: z
      .strictObject({
        keyFile: nonEmpty().default('./keys/signing-key.pem'),
        certFile: nonEmpty().default('./keys/signing-cert.pem'),
      }, { error: 'must be an object' })
      .default({ keyFile: './keys/signing-key.pem', certFile: './keys/signing-cert.pem' }),
    schedule: cronExpr.default('*/5 * * * *').meta({ description: "the daemon's cron expression (5 fields, or 6 with seconds), in timezone" }),
    notifySchedule: z
      .union([z.literal('off'), cronExpr])
      .optional()
      .meta({ description: 'cron for the daemon notify run; default = schedule; "off" = none' }),
    timezone: nonEmpty()
      .refine(isTimeZone, { error: (iss) => `"${String(iss.input)}" is not a time zone this Node.js knows; use an IANA name such as Europe/Brussels` })
      .default('Europe/Brussels'),
    leaseSeconds: positive.default(120),
    shutdownGraceSeconds: positive.default(30),
    http: httpSchema.optional(),
    retry: z
      .strictObject({
        maxAttempts: z.number({ error: 'must be a whole number of at least 1' }).int({ error: 'must be a whole number of at least 1' }).min(1, { error: 'must be a whole number of at least 1' }).default(DEFAULT_RETRY.maxAttempts),
        firstDelaySeconds: positive.default(DEFAULT_RETRY.firstDelaySeconds),
        maxDelaySeconds: positive.default(DEFAULT_RETRY.maxDelaySeconds),
        maxSeconds: positive.default(DEFAULT_RETRY.maxSeconds),
      }, { error: 'must be an object like {"maxAttempts": 8, "firstDelaySeconds": 30, "maxDelaySeconds": 1800, "maxSeconds": 86400}' })
      .default({ ...DEFAULT_RETRY })
      .meta({ description: 'transient faults (disk full, database busy, SFTP down…): attempts and exponential backoff before the batch ends FAILED with INTERNAL_ERROR' }),
    fileMode: z
      .union([z.literal('0600'), z.literal('600'), z.literal('0640'), z.literal('640'), z.literal(0o600), z.literal(0o640)], { error: 'must be "0600" (default) or "0640" (group may read)' })
      .default('0600')
      .transform((v): FileMode => parseFileMode(v) ?? 0o600)
      .meta({ description: 'mode of every file holding personal data: "0600", or "0640" to let a group read them' }),
    clients: z.array(clientSchema, { error: 'must be a list' }).default([]),
    audit: auditSchema.meta({ description: 'audit register retention: retentionYears (10), onlineMonths (12), retentionSchedule' }),
    extracts: z
      .array(extractSchema, { error: 'must be a list' })
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((e, i) => {
          if (seen.has(e.clientId)) ctx.addIssue({ code: 'custom', path: [i, 'clientId'], message: `"${e.clientId}" has two extracts; a client has at most one (one file per client and year)` });
          seen.add(e.clientId);
        });
      })
      .meta({ description: 'scheduled extracts (contract §6d), at most one per client' }),
  }, { error: 'the config must be a JSON object' })
  .meta({ title: 'ldm-batch config', description: 'ldm-batch.config.json; paths are relative to the file; no secret may appear in it' });

export type ConfigFileInput = z.input<typeof configFileSchema>;
export type ConfigFile = z.output<typeof configFileSchema>;
export type SftpConfig = z.output<typeof sftpSchema>;
export type SftpRetryConfig = Required<z.output<typeof retrySchema>>;
export type HttpConfig = z.output<typeof httpSchema>;
export type ExtractConfig = z.output<typeof extractSchema>;

/** The JSON Schema published as schemas/ldm-batch.config.schema.json (what a config file may hold). */
export function configJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(configFileSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }), $id: 'urn:ldm-batch:config:v1' };
}
