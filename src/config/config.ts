// The instance configuration: one JSON file, paths relative to the file, no secrets inside
// (keys are referenced by path; a passphrase only by environment variable or file).
import { DEFAULT_RETRY, type RetryPolicy } from '../pipeline/retryPolicy.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseFileMode, type FileMode } from '../files/modes.js';
import { assertSafeSpoolRoot } from '../spool/root.js';
import { LdmError } from '../errors.js';
import type { Client, Environment, ServiceName } from '../interfaces.js';
import { SERVICES } from '../interfaces.js';
import { isValidCbe } from '../domain/cbe.js';
import { unknownAmountFields } from '../services/amounts/profile.js';
import { NOTIFICATION_SERVICE } from '../notifications/subscriptions.js';

export interface SftpConfig {
  host: string;
  port: number;
  username: string;
  /** Private key file (OpenSSH or PEM); refused if readable by group or others. */
  privateKeyFile: string;
  /** Passphrase of the key, read from this environment variable or file — never from the config. */
  passphraseEnv?: string;
  passphraseFile?: string;
  /** The server's host key, pinned: `SHA256:<base64>` as printed by ssh-keygen -lf, and/or a known_hosts file. */
  hostKeyFingerprint?: string;
  knownHostsFile?: string;
  readyTimeoutMs: number;
  /** Reconnects per operation when the connection drops (spool.sftp.retry); unset fields keep the transport's defaults. */
  retry?: Partial<SftpRetryConfig>;
  /** SSH keepalive interval (spool.sftp.keepaliveIntervalMs); 0 disables. */
  keepaliveIntervalMs?: number;
}

export interface SftpRetryConfig {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface HttpConfig {
  /** 0 lets the system pick a free port (logged as http.listening). */
  port: number;
  host: string;
}

export interface SpoolConfig {
  /** `local` (a folder) or `sftp` (a server; see README). */
  transport: 'local' | 'sftp';
  /** Local folder, or the remote path on the SFTP server. */
  root: string;
  sftp?: SftpConfig;
  /** A file with a final name is taken only once it is this old and unchanged across two polls. */
  minAgeSeconds: number;
}

export interface Config {
  file: string | null;
  instanceId: string;
  environment: Environment;
  database: string;
  spool: SpoolConfig;
  signing: { keyFile: string; certFile: string };
  schedule: string;
  /** The daemon's notify run: a cron expression, or 'off'; absent = `schedule`. */
  notifySchedule?: string;
  timezone: string;
  /** A batch in flight whose holder stops renewing it for this long is taken over. */
  leaseSeconds: number;
  /** Clients declared in the config are loaded into the store at start (in addition to `import clients`). */
  clients: Client[];
  /** Per-client cron expressions (clients[].schedule); other clients follow `schedule`. */
  clientSchedules: Record<string, string>;
  /** The daemon's /healthz and /metrics server; absent = off. */
  http?: HttpConfig;
  /** On SIGTERM the daemon waits this long for the files in hand, then exits leaving them to lease recovery. */
  shutdownGraceSeconds: number;
  /** Transient faults (disk full, database busy, SFTP down…): attempts and backoff before INTERNAL_ERROR. */
  retry: RetryPolicy;
  /** Mode of every file holding personal data: 0600, or 0640 (`fileMode: "0640"`) to let a group read them. */
  fileMode: FileMode;
}

export const CONFIG_NAME = 'ldm-batch.config.json';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Record<string, unknown>, key: string, dflt: string, where: string): string {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || v === '') throw new LdmError('CONFIG', `${where}: "${key}" must be a non-empty string`, { exitCode: 2 });
  return v;
}

/**
 * Secrets never live in the config: a key that names one (password, passphrase, secret, private
 * key material) is refused wherever it is nested; references to them (…File, …Env) are fine.
 */
function assertNoSecrets(v: unknown, file: string, path: string): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => assertNoSecrets(x, file, `${path}[${i}]`));
    return;
  }
  if (!isObj(v)) return;
  for (const [key, x] of Object.entries(v)) {
    const where = path ? `${path}.${key}` : key;
    if (/pass(word|phrase)|secret|privateKey|token/i.test(key) && !/(File|Env)$/.test(key)) {
      throw new LdmError('CONFIG_SECRET', `${file}: "${where}" looks like a secret; secrets never go in the config — reference a file (…File) or an environment variable (…Env)`, { exitCode: 2 });
    }
    if (typeof x === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(x)) {
      throw new LdmError('CONFIG_SECRET', `${file}: "${where}" holds a private key; put it in a file (chmod 600) and reference its path`, { exitCode: 2 });
    }
    assertNoSecrets(x, file, where);
  }
}

function positive(o: Record<string, unknown>, key: string, dflt: number, where: string): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !(v > 0)) throw new LdmError('CONFIG', `${where}: "${key}" must be a positive number`, { exitCode: 2 });
  return v;
}

/** The instance id names claim files and journal holders: keep it to safe file-name characters. */
function instanceId(v: string, where: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw new LdmError('CONFIG', `${where}: "instanceId" must be 1-64 of A-Z a-z 0-9 _ -`, { exitCode: 2 });
  return v;
}

/** Finds the config: --config, then LDM_BATCH_CONFIG, then ./ldm-batch.config.json. */
export function configPath(explicit?: string): string {
  const p = explicit ?? process.env.LDM_BATCH_CONFIG ?? CONFIG_NAME;
  return resolve(p);
}

export function loadConfig(explicit?: string): Config {
  const file = configPath(explicit);
  if (!existsSync(file)) {
    throw new LdmError('CONFIG_MISSING', `no config at ${file}; run "ldm-batch init" to create one, or pass --config <file>`, { exitCode: 2 });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LdmError('CONFIG', `${file} is not valid JSON: ${(err as Error).message}`, { exitCode: 2 });
  }
  return parseConfig(raw, file);
}

export function parseConfig(raw: unknown, file: string): Config {
  if (!isObj(raw)) throw new LdmError('CONFIG', `${file}: the config must be a JSON object`, { exitCode: 2 });
  const base = dirname(file);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  assertNoSecrets(raw, file, '');
  const env = str(raw, 'environment', 'PROD', file);
  if (!['PROD', 'ACPT', 'TEST'].includes(env)) throw new LdmError('CONFIG', `${file}: "environment" must be PROD, ACPT or TEST`, { exitCode: 2 });
  const spoolRaw = isObj(raw.spool) ? raw.spool : {};
  const transport = str(spoolRaw, 'transport', 'local', file);
  if (transport !== 'local' && transport !== 'sftp') throw new LdmError('CONFIG', `${file}: spool.transport must be "local" or "sftp"`, { exitCode: 2 });
  const minAge = spoolRaw.minAgeSeconds ?? 0;
  if (typeof minAge !== 'number' || minAge < 0) throw new LdmError('CONFIG', `${file}: spool.minAgeSeconds must be a number ≥ 0`, { exitCode: 2 });
  const signing = isObj(raw.signing) ? raw.signing : {};
  const database = str(raw, 'database', './data/ldm-batch.sqlite', file);
  const sftp = transport === 'sftp' ? parseSftp(spoolRaw.sftp, file, abs) : undefined;
  const rootWritten = str(spoolRaw, 'root', transport === 'sftp' ? '/' : './spool', file);
  if (transport === 'local') assertSafeSpoolRoot(abs(rootWritten), rootWritten);
  return {
    file,
    instanceId: instanceId(str(raw, 'instanceId', 'ldm-1', file), file),
    environment: env as Environment,
    database: /^postgres(ql)?:\/\//.test(database) ? database : abs(database.replace(/^sqlite:/, '')),
    spool: {
      transport,
      // A remote root is a path on the server, not relative to the config.
      root: transport === 'sftp' ? str(spoolRaw, 'root', '/', file) : abs(str(spoolRaw, 'root', './spool', file)),
      minAgeSeconds: minAge,
      sftp,
    },
    signing: { keyFile: abs(str(signing, 'keyFile', './keys/signing-key.pem', file)), certFile: abs(str(signing, 'certFile', './keys/signing-cert.pem', file)) },
    schedule: str(raw, 'schedule', '*/5 * * * *', file),
    notifySchedule: raw.notifySchedule === undefined ? undefined : str(raw, 'notifySchedule', '', file),
    timezone: str(raw, 'timezone', 'Europe/Brussels', file),
    leaseSeconds: positive(raw, 'leaseSeconds', 120, file),
    clients: parseClients(raw.clients, file),
    clientSchedules: parseClientSchedules(raw.clients, file),
    http: raw.http === undefined ? undefined : parseHttp(raw.http, file),
    shutdownGraceSeconds: positive(raw, 'shutdownGraceSeconds', 30, file),
    retry: parseBatchRetry(raw.retry, file),
    fileMode: fileMode(raw.fileMode, file),
  };
}

function parseBatchRetry(v: unknown, file: string): RetryPolicy {
  if (v === undefined) return { ...DEFAULT_RETRY };
  const where = `${file}: retry`;
  if (!isObj(v)) throw new LdmError('CONFIG', `${where} must be an object like {"maxAttempts": 8, "firstDelaySeconds": 30, "maxDelaySeconds": 1800, "maxSeconds": 86400}`, { exitCode: 2 });
  const maxAttempts = v.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 1) throw new LdmError('CONFIG', `${where}: "maxAttempts" must be a whole number of at least 1`, { exitCode: 2 });
  return {
    maxAttempts,
    firstDelaySeconds: positive(v, 'firstDelaySeconds', DEFAULT_RETRY.firstDelaySeconds, where),
    maxDelaySeconds: positive(v, 'maxDelaySeconds', DEFAULT_RETRY.maxDelaySeconds, where),
    maxSeconds: positive(v, 'maxSeconds', DEFAULT_RETRY.maxSeconds, where),
  };
}

function fileMode(v: unknown, file: string): FileMode {
  const m = parseFileMode(v);
  if (m === undefined) throw new LdmError('CONFIG', `${file}: "fileMode" must be "0600" (default) or "0640" (group may read)`, { exitCode: 2 });
  return m;
}

/** A TCP port; 0 (any free port) only where `allowZero`. */
export function parsePort(v: unknown, where: string, allowZero: boolean): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new LdmError('CONFIG', `${where} must be a port number (${allowZero ? '0 for any free port, ' : ''}1-65535)`, { exitCode: 2 });
  }
  return n;
}

function parseHttp(v: unknown, file: string): HttpConfig {
  const where = `${file}: http`;
  if (!isObj(v)) throw new LdmError('CONFIG', `${where} must be an object like {"port": 9464}`, { exitCode: 2 });
  return { port: parsePort(v.port, `${where}.port`, true), host: str(v, 'host', '127.0.0.1', where) };
}

function parseClientSchedules(v: unknown, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(v)) return out;
  v.forEach((c: unknown, i: number) => {
    if (isObj(c) && c.schedule !== undefined) out[str(c, 'clientId', '', `${file}: clients[${i}]`)] = str(c, 'schedule', '', `${file}: clients[${i}]`);
  });
  return out;
}

function nonNegativeInt(o: Record<string, unknown>, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new LdmError('CONFIG', `${where}.${key} must be a whole number ≥ 0`, { exitCode: 2 });
  return v;
}

function parseRetry(v: unknown, where: string): Partial<SftpRetryConfig> | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) throw new LdmError('CONFIG', `${where} must be an object like {"maxRetries": 6, "baseDelayMs": 500, "maxDelayMs": 30000}`, { exitCode: 2 });
  const retry: Partial<SftpRetryConfig> = {};
  const maxRetries = nonNegativeInt(v, 'maxRetries', where);
  if (maxRetries !== undefined) retry.maxRetries = maxRetries;
  for (const key of ['baseDelayMs', 'maxDelayMs'] as const) {
    const n = nonNegativeInt(v, key, where);
    if (n === 0) throw new LdmError('CONFIG', `${where}.${key} must be a positive number of milliseconds`, { exitCode: 2 });
    if (n !== undefined) retry[key] = n;
  }
  if (retry.baseDelayMs !== undefined && retry.maxDelayMs !== undefined && retry.maxDelayMs < retry.baseDelayMs) {
    throw new LdmError('CONFIG', `${where}.maxDelayMs (${retry.maxDelayMs}) must not be below baseDelayMs (${retry.baseDelayMs})`, { exitCode: 2 });
  }
  return retry;
}

function parseSftp(v: unknown, file: string, abs: (p: string) => string): SftpConfig {
  const where = `${file}: spool.sftp`;
  if (!isObj(v)) throw new LdmError('CONFIG', `${where} is required when spool.transport is "sftp"`, { exitCode: 2 });
  const port = v.port ?? 22;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new LdmError('CONFIG', `${where}.port must be a port number`, { exitCode: 2 });
  const fingerprint = v.hostKeyFingerprint === undefined ? undefined : str(v, 'hostKeyFingerprint', '', where);
  const knownHosts = v.knownHostsFile === undefined ? undefined : abs(str(v, 'knownHostsFile', '', where));
  if (!fingerprint && !knownHosts) {
    throw new LdmError('CONFIG', `${where}: set hostKeyFingerprint (SHA256:…) or knownHostsFile — the server's host key must be pinned, ldm-batch never connects blindly`, { exitCode: 2 });
  }
  const timeout = v.readyTimeoutMs ?? 10_000;
  if (typeof timeout !== 'number' || timeout <= 0) throw new LdmError('CONFIG', `${where}.readyTimeoutMs must be a positive number`, { exitCode: 2 });
  return {
    host: str(v, 'host', '', where),
    port,
    username: str(v, 'username', '', where),
    privateKeyFile: abs(str(v, 'privateKeyFile', '', where)),
    passphraseEnv: v.passphraseEnv === undefined ? undefined : str(v, 'passphraseEnv', '', where),
    passphraseFile: v.passphraseFile === undefined ? undefined : abs(str(v, 'passphraseFile', '', where)),
    hostKeyFingerprint: fingerprint,
    knownHostsFile: knownHosts,
    readyTimeoutMs: timeout,
    retry: parseRetry(v.retry, `${where}.retry`),
    keepaliveIntervalMs: nonNegativeInt(v, 'keepaliveIntervalMs', where),
  };
}

function parseClients(v: unknown, file: string): Client[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new LdmError('CONFIG', `${file}: "clients" must be a list`, { exitCode: 2 });
  return v.map((c, i) => {
    const where = `${file}: clients[${i}]`;
    if (!isObj(c)) throw new LdmError('CONFIG', `${where} must be an object`, { exitCode: 2 });
    const auths = Array.isArray(c.authorizations) ? c.authorizations : [];
    // The same checks as `import clients`: the id names a spool folder, the CBE and sector are real.
    const clientId = str(c, 'clientId', '', where);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(clientId)) throw new LdmError('CONFIG', `${where}: clientId must be 1-64 of A-Z a-z 0-9 . _ - (it names the spool folder)`, { exitCode: 2 });
    const cbeNumber = str(c, 'cbeNumber', '', where);
    if (!isValidCbe(cbeNumber)) throw new LdmError('CONFIG', `${where}: cbeNumber "${cbeNumber}" is not a valid 10-digit CBE number`, { exitCode: 2 });
    if (!Number.isInteger(Number(c.sector))) throw new LdmError('CONFIG', `${where}: sector must be a number`, { exitCode: 2 });
    return {
      clientId,
      cbeNumber,
      sector: Number(c.sector),
      name: str(c, 'name', String(c.clientId), where),
      authorizations: auths.map((a: unknown, j: number) => {
        const w = `${where}.authorizations[${j}]`;
        if (!isObj(a)) throw new LdmError('CONFIG', `${w} must be an object`, { exitCode: 2 });
        const service = str(a, 'service', '', w);
        if (![...SERVICES, NOTIFICATION_SERVICE].includes(service)) throw new LdmError('CONFIG', `${w}: unknown service "${service}"`, { exitCode: 2 });
        const fields = Array.isArray(a.fields) ? a.fields.map(String) : [];
        const unknown = service === 'LivingWagesWithAmount' ? unknownAmountFields(fields) : [];
        if (unknown.length > 0) throw new LdmError('CONFIG', `${w}: unknown field name(s) ${unknown.join(', ')}`, { exitCode: 2 });
        return {
          service: service as ServiceName,
          legalContext: str(a, 'legalContext', '', w),
          qualityCodes: (Array.isArray(a.qualityCodes) ? a.qualityCodes : []).map(Number),
          deliberation: typeof a.deliberation === 'string' ? a.deliberation : null,
          fields,
        };
      }),
    };
  });
}

/** The config `init` writes: everything local, relative to the config's folder. */
export function defaultConfigJson(): Record<string, unknown> {
  return {
    instanceId: 'ldm-1',
    environment: 'PROD',
    database: './data/ldm-batch.sqlite',
    spool: { transport: 'local', root: './spool', minAgeSeconds: 0 },
    signing: { keyFile: './keys/signing-key.pem', certFile: './keys/signing-cert.pem' },
    schedule: '*/5 * * * *',
    timezone: 'Europe/Brussels',
  };
}

