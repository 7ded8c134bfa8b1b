// `ldm-batch check`: what an operator runs before enabling the daemon. Each check looks and never
// changes anything (no migration, no folder created); one result per check, in a fixed order.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { loadConfig, type Config } from '../config/config.js';
import { LdmError, errorMessage } from '../errors.js';
import { loadSigner } from '../response/sign.js';
import { connectDatabase, databaseSpec, pendingMigrations, type Db } from '../store/db.js';
import { loadClients } from '../store/clients.js';
import { LocalSpool } from '../spool/local.js';
import { SftpSpool } from '../spool/sftp.js';
import type { SpoolTransport } from '../spool/transport.js';
import { redact } from '../log/logger.js';
import { STREAM_VALIDATOR_HINT, streamValidate, WITHOUT_STREAM_VALIDATOR, xmllintBinary } from '../batch/streamValidate.js';
import { schemaPath } from '../batch/schemaFiles.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  code?: string;
}

/** A certificate expiring within this many days is a warning (the rotation takes an overlap period). */
export const CERT_WARN_DAYS = 30;
const DAY_MS = 86_400_000;

function failed(name: string, err: unknown): CheckResult {
  return { name, status: 'fail', detail: redact(errorMessage(err)), code: err instanceof LdmError ? err.code : undefined };
}

/** The signing certificate's validity at `now`: expired or not yet valid fails, close to expiry warns. */
export function certificateValidity(cert: X509Certificate, now: Date): { status: CheckStatus; detail: string; code?: string } {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  const until = new Date(to).toISOString().slice(0, 10);
  if (now.getTime() < from) return { status: 'fail', detail: `the certificate is not valid before ${new Date(from).toISOString()}`, code: 'CERT_NOT_YET_VALID' };
  if (now.getTime() > to) return { status: 'fail', detail: `the certificate expired on ${until}`, code: 'CERT_EXPIRED' };
  const days = Math.floor((to - now.getTime()) / DAY_MS);
  if (days < CERT_WARN_DAYS) return { status: 'warn', detail: `the certificate expires in ${days} day(s), on ${until}: rotate the signing key (docs/operations/runbook.md)`, code: 'CERT_EXPIRES_SOON' };
  return { status: 'ok', detail: `key and certificate match; valid until ${until} (${days} days)` };
}

async function checkSigning(config: Config, now: Date): Promise<CheckResult> {
  try {
    const signer = await loadSigner(config.signing.keyFile, config.signing.certFile);
    return { name: 'signing', ...certificateValidity(new X509Certificate(signer.certificatePem), now) };
  } catch (err) {
    return failed('signing', err);
  }
}

async function checkDatabase(config: Config): Promise<{ result: CheckResult; db: Db | null }> {
  const spec = databaseSpec(config);
  if (spec.client === 'sqlite' && spec.filename && !existsSync(spec.filename)) {
    return { result: { name: 'database', status: 'fail', detail: `no SQLite database at ${spec.filename}; run "ldm-batch init" or fix "database"`, code: 'DB_MISSING' }, db: null };
  }
  const db = connectDatabase(spec);
  try {
    await db.raw('select 1');
  } catch (err) {
    await db.destroy();
    return { result: { name: 'database', status: 'fail', detail: `cannot reach the database: ${redact(errorMessage(err))}`, code: 'DB_UNREACHABLE' }, db: null };
  }
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    return { result: { name: 'database', status: 'fail', detail: `the schema is not current: ${pending.length} migration(s) to run (${pending[0]}…); any ldm-batch command that opens the store runs them, e.g. "ldm-batch batches list"`, code: 'DB_NOT_MIGRATED' }, db };
  }
  return { result: { name: 'database', status: 'ok', detail: `${spec.client === 'postgres' ? 'PostgreSQL' : 'SQLite'} reachable, schema current` }, db };
}

async function checkReadModel(db: Db): Promise<{ result: CheckResult; clients: string[] }> {
  const [{ n: ocmws }] = await db('ocmws').count<{ n: number | string }[]>({ n: '*' });
  const clients = (await loadClients(db)).map((c) => c.clientId);
  if (Number(ocmws) === 0) return { result: { name: 'read model', status: 'fail', detail: 'the OCMW list is empty: import it with "ldm-batch import ocmws <file>"', code: 'READ_MODEL_EMPTY' }, clients };
  if (clients.length === 0) return { result: { name: 'read model', status: 'fail', detail: 'no clients are known: nothing would be polled; declare them in the config or "ldm-batch import clients <file>"', code: 'NO_CLIENTS' }, clients };
  return { result: { name: 'read model', status: 'ok', detail: `${Number(ocmws)} OCMWs, ${clients.length} client(s)` }, clients };
}

/** The transport with no reconnect retries: `check` reports a fault at once instead of backing off for a minute. */
function checkTransport(config: Config): SpoolTransport {
  if (config.spool.transport === 'sftp' && config.spool.sftp) {
    return new SftpSpool(config.spool.root, config.spool.sftp, { retry: { maxRetries: 0 }, keepaliveIntervalMs: 0 });
  }
  return new LocalSpool(config.spool.root);
}

async function checkSpool(config: Config, clients: string[]): Promise<CheckResult[]> {
  const transport = checkTransport(config);
  const out: CheckResult[] = [];
  try {
    try {
      if (!(await transport.rootExists())) {
        return [{ name: 'spool', status: 'fail', detail: `${transport.description}: the spool root does not exist or is not a real folder (a link is not followed)`, code: 'SPOOL_ROOT_MISSING' }];
      }
      const how = config.spool.transport === 'sftp' ? 'host key matches the pin, key accepted, root present' : 'root present';
      out.push({ name: 'spool', status: 'ok', detail: `${transport.description}: ${how}` });
    } catch (err) {
      return [failed('spool', err)];
    }
    for (const id of clients) {
      try {
        const missing = await transport.missingFolders(id);
        out.push(
          missing.length === 0
            ? { name: `client ${id}`, status: 'ok', detail: 'in/ out/ archive/ error/ present' }
            : { name: `client ${id}`, status: 'fail', detail: `missing folder(s) ${missing.map((f) => `${f}/`).join(' ')} under ${id}/ (absent, or not a real folder; who creates them: docs/operations/runbook.md)`, code: 'SPOOL_FOLDER_MISSING' },
        );
      } catch (err) {
        out.push(failed(`client ${id}`, err));
      }
    }
    return out;
  } finally {
    await transport.close().catch(() => undefined);
  }
}

/** The smallest valid request: what the validator check asks the streaming validator about. */
const PROBE_REQUEST = `<?xml version="1.0" encoding="UTF-8"?>
<BatchRequest xmlns="urn:ldm-batch:v1"><Header><FileId>CHECK</FileId><Sender><CbeNumber>0308357159</CbeNumber></Sender>
<Service>LivingWagesWithAmount</Service><LegalContext>CHECK</LegalContext><Environment>TEST</Environment><CreatedAt>2026-01-01T00:00:00Z</CreatedAt></Header>
<Requests><Request seq="1"><Ssin>85073003328</Ssin><Period><Year>2025</Year></Period></Request></Requests><Trailer><RecordCount>1</RecordCount></Trailer></BatchRequest>
`;

/**
 * Whether libxml2's streaming validator runs and accepts a valid request (batch/streamValidate.ts).
 * Without it every request is validated by libxml2-wasm alone: as strict, about twice the CPU.
 */
export async function checkValidator(env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const name = 'validator';
  const bin = xmllintBinary(env);
  if ('off' in bin) return { name, status: 'warn', detail: `${bin.off}: ${WITHOUT_STREAM_VALIDATOR}`, code: 'STREAM_VALIDATOR_OFF' };
  const dir = await mkdtemp(join(tmpdir(), 'ldm-check-'));
  try {
    const probe = join(dir, 'probe.xml');
    await writeFile(probe, PROBE_REQUEST, { mode: 0o600 });
    const v = await streamValidate(probe, schemaPath('request'), 0, env).result;
    if (v.verdict === 'valid') return { name, status: 'ok', detail: `libxml2 streaming validation by ${bin.path}` };
    return {
      name,
      status: 'warn',
      detail: `${bin.path} did not accept a valid request (${v.detail.split('\n')[0] || v.verdict}): ${WITHOUT_STREAM_VALIDATOR}; ${STREAM_VALIDATOR_HINT}`,
      code: 'STREAM_VALIDATOR_UNAVAILABLE',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs every check; a check that depends on a failed one is reported as skipped. */
export async function runChecks(configFile: string | undefined, now = new Date()): Promise<CheckResult[]> {
  let config: Config;
  try {
    config = loadConfig(configFile);
  } catch (err) {
    return [failed('config', err), ...['signing', 'database', 'read model', 'spool', 'validator'].map((name): CheckResult => ({ name, status: 'skipped', detail: 'the config did not load' }))];
  }
  const results: CheckResult[] = [{ name: 'config', status: 'ok', detail: `${config.file} (instance ${config.instanceId}, ${config.environment})` }];
  results.push(await checkSigning(config, now));
  const { result, db } = await checkDatabase(config);
  results.push(result);
  let clients: string[] | null = null;
  if (db && result.status === 'ok') {
    try {
      const rm = await checkReadModel(db);
      results.push(rm.result);
      clients = rm.clients;
    } catch (err) {
      results.push(failed('read model', err));
    }
  } else {
    results.push({ name: 'read model', status: 'skipped', detail: 'the database check failed' });
  }
  await db?.destroy();
  // Config-declared clients are known even when the database is not (they are synced at start).
  const ids = [...new Set([...(clients ?? []), ...config.clients.map((c) => c.clientId)])].sort();
  results.push(...(await checkSpool(config, ids)));
  results.push(await checkValidator());
  return results;
}

/** Whether the daemon may be enabled: every check passed (a warning passes). */
export function allPassed(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.status === 'ok' || r.status === 'warn');
}

