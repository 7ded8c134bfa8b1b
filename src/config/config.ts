// The instance configuration: one JSON file, paths relative to the file, no secrets inside
// (keys are referenced by path; a passphrase or database password only by environment variable
// or file). Its keys, defaults and checks are the zod schema in schema.ts; this file turns the
// parsed file into the Config the program uses (absolute paths, clients) and words the errors.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { LdmError } from '../errors.js';
import { assertSafeSpoolRoot } from '../spool/root.js';
import type { Client, ServiceName } from '../interfaces.js';
import { configFileSchema, type ConfigFile, type SftpConfig } from './schema.js';

export type { ExtractConfig, HttpConfig, SftpConfig, SftpRetryConfig } from './schema.js';

export interface SpoolConfig {
  /** `local` (a folder) or `sftp` (a server; see README). */
  transport: 'local' | 'sftp';
  /** Local folder (absolute), or the remote path on the SFTP server. */
  root: string;
  sftp?: SftpConfig;
  /** A file with a final name is taken only once it is this old and unchanged across two polls. */
  minAgeSeconds: number;
}

/** The parsed config: the schema's output with absolute paths, and clients in the store's shape. */
export type Config = Omit<ConfigFile, '$schema' | 'spool' | 'clients'> & {
  file: string | null;
  spool: SpoolConfig;
  /** Clients declared in the config are loaded into the store at start (in addition to `import clients`). */
  clients: Client[];
  /** Per-client cron expressions (clients[].schedule); other clients follow `schedule`. */
  clientSchedules: Record<string, string>;
};

export const CONFIG_NAME = 'ldm-batch.config.json';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const configError = (message: string): LdmError => new LdmError('CONFIG', message, { exitCode: 2 });

/**
 * Secrets never live in the config: a key that names one (password, passphrase, secret, private
 * key material) is refused wherever it is nested; references to them (…File, …Env) are fine. A
 * password inside the PostgreSQL URL is refused too: PGPASSWORD or databasePasswordFile give it.
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
    if (where === 'database' && typeof x === 'string' && /^postgres(ql)?:\/\/[^/@?#]*:[^/@?#]*@/i.test(x)) {
      throw new LdmError('CONFIG_SECRET', `${file}: "database" holds a password in its URL; remove it and give the password by PGPASSWORD (e.g. systemd EnvironmentFile) or "databasePasswordFile" (a file of mode 0600)`, { exitCode: 2 });
    }
    assertNoSecrets(x, file, where);
  }
}

/** `spool.sftp.retry.maxRetries`, `clients[0].clientId`. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Edit distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[y.length];
}

/** The nearest known key, when it is near enough to be a plausible typo. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(key, k);
    if (!best || d < best.d) best = { k, d };
  }
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.k : undefined;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The keys the schema knows for the object at `path` (through defaults, optionals, lists, pipes). */
export function knownKeys(path: readonly PropertyKey[], schema: z.ZodType = configFileSchema): string[] {
  let node: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    const d = defOf(s);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault') && d.innerType) return unwrap(d.innerType);
    if (d.type === 'pipe' && d.in) return unwrap(d.in);
    return s;
  };
  for (const p of path) {
    if (!node) return [];
    const d = defOf(unwrap(node));
    if (typeof p === 'number') node = d.type === 'array' ? d.element : undefined;
    else if (d.type === 'object') node = d.shape?.[String(p)];
    else if (d.type === 'union') node = d.options?.map((o) => defOf(unwrap(o))).find((o) => o.type === 'object')?.shape?.[String(p)];
    else node = undefined;
  }
  if (!node) return [];
  const d = defOf(unwrap(node));
  return d.type === 'object' && d.shape ? Object.keys(d.shape).filter((k) => k !== '$schema') : [];
}

function issueText(issue: z.core.$ZodIssue): string {
  const where = pathText(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issue.path);
    return issue.keys
      .map((k) => {
        const near = nearestKey(k, known);
        return `unknown key "${where ? `${where}.` : ''}${k}"${near ? ` — did you mean "${near}"?` : ''} (known: ${known.join(', ')})`;
      })
      .join('; ');
  }
  return where ? `${where} ${issue.message}` : issue.message;
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
    throw configError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(raw, file);
}

export function parseConfig(raw: unknown, file: string): Config {
  if (!isObj(raw)) throw configError(`${file}: the config must be a JSON object`);
  assertNoSecrets(raw, file, '');
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(issueText);
    throw configError(`${file}: ${issues[0]}${issues.length > 1 ? `; and ${issues.length - 1} more: ${issues.slice(1).join('; ')}` : ''}`);
  }
  const c = parsed.data;
  const base = dirname(file);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  // Client folders are created under a local root: `/`, a system folder or `..` are refused.
  if (c.spool.transport === 'local') assertSafeSpoolRoot(abs(c.spool.root ?? './spool'), c.spool.root ?? './spool');
  const sftp = c.spool.transport === 'sftp' && c.spool.sftp ? c.spool.sftp : undefined;
  return {
    file,
    instanceId: c.instanceId,
    environment: c.environment,
    database: /^postgres(ql)?:\/\//i.test(c.database) ? c.database : abs(c.database.replace(/^sqlite:/, '')),
    databasePasswordFile: c.databasePasswordFile === undefined ? undefined : abs(c.databasePasswordFile),
    spool: {
      transport: c.spool.transport,
      // A remote root is a path on the server, not relative to the config.
      root: c.spool.transport === 'sftp' ? (c.spool.root ?? '/') : abs(c.spool.root ?? './spool'),
      minAgeSeconds: c.spool.minAgeSeconds,
      sftp: sftp && {
        ...sftp,
        privateKeyFile: abs(sftp.privateKeyFile),
        passphraseFile: sftp.passphraseFile === undefined ? undefined : abs(sftp.passphraseFile),
        knownHostsFile: sftp.knownHostsFile === undefined ? undefined : abs(sftp.knownHostsFile),
      },
    },
    signing: { keyFile: abs(c.signing.keyFile), certFile: abs(c.signing.certFile) },
    schedule: c.schedule,
    notifySchedule: c.notifySchedule,
    timezone: c.timezone,
    leaseSeconds: c.leaseSeconds,
    clients: c.clients.map((x) => ({
      clientId: x.clientId,
      cbeNumber: x.cbeNumber,
      sector: x.sector,
      name: x.name ?? x.clientId,
      authorizations: x.authorizations.map((a) => ({ ...a, service: a.service as ServiceName })),
    })),
    clientSchedules: Object.fromEntries(c.clients.filter((x) => x.schedule !== undefined).map((x) => [x.clientId, x.schedule as string])),
    http: c.http,
    shutdownGraceSeconds: c.shutdownGraceSeconds,
    retry: c.retry,
    fileMode: c.fileMode,
    audit: c.audit,
    extracts: c.extracts,
  };
}

/** A TCP port (the daemon's --http-port); 0 (any free port) only where `allowZero`. */
export function parsePort(v: unknown, where: string, allowZero: boolean): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw configError(`${where} must be a port number (${allowZero ? '0 for any free port, ' : ''}1-65535)`);
  }
  return n;
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

