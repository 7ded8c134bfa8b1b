import { openApp } from '../context.js';
import { BATCH_STATES, findBatch, journalNowMs, listBatches, type BatchRecord } from '../../journal/batches.js';
import { LdmError } from '../../errors.js';
import type { RetryPolicy } from '../../pipeline/retryPolicy.js';
import { print, printJson } from '../output.js';
import { EXTRACT_CLAIM_PREFIX } from '../../extracts/journal.js';

function counts(b: BatchRecord): string {
  return Object.entries(b.statusCounts)
    .sort(([a], [c]) => a.localeCompare(c))
    .map(([c, n]) => `${c}=${n}`)
    .join(' ');
}

/**
 * What will happen to a row, judged on the database's clock (the one leases are set on). A spool
 * batch (it has a claim name) is taken over or retried by the next poll of any instance once its
 * lease ran out; a `process`/`reprocess` row is its command's own, and a poll marks it FAILED
 * (ABANDONED) once its command stopped renewing it.
 */
export function future(b: BatchRecord, nowIso: string, retry: RetryPolicy): string {
  if (b.state !== 'CLAIMED') return '';
  const expired = b.leaseUntil === null || b.leaseUntil < nowIso;
  if (b.claimName?.startsWith(EXTRACT_CLAIM_PREFIX)) return extractFuture(b, expired, retry);
  if (b.claimName === null) {
    return expired ? 'its command stopped: marked FAILED (ABANDONED) at the next poll' : `running (a process/reprocess command), lease until ${b.leaseUntil}`;
  }
  const lastAttempt = b.attempts >= retry.maxAttempts;
  if (b.errorCode !== null) {
    if (lastAttempt) return `attempt ${b.attempts} of ${retry.maxAttempts} failed (${b.errorCode}): given up at the next poll (INTERNAL_ERROR to the client)`;
    return `attempt ${b.attempts} of ${retry.maxAttempts} failed (${b.errorCode}): retried ${expired ? 'at the next poll' : `at the first poll after ${b.leaseUntil}`}`;
  }
  if (!expired) return `in progress, attempt ${b.attempts} of ${retry.maxAttempts}, lease until ${b.leaseUntil}`;
  return lastAttempt ? `its holder stopped; attempts used up: given up at the next poll (INTERNAL_ERROR to the client)` : `its holder stopped: taken over at the next poll (attempt ${b.attempts + 1} of ${retry.maxAttempts})`;
}

/**
 * A scheduled extract's row (claim name `extract:<client>:<year>`, src/extracts/journal.ts): the
 * daemon resumes it at its next poll tick, `ldm-batch extract run` on demand; one given up is
 * FAILED (EXTRACT_GIVEN_UP) with nothing sent, until an operator re-opens it with `--retry`.
 */
function extractFuture(b: BatchRecord, expired: boolean, retry: RetryPolicy): string {
  const next = 'the next daemon poll or `ldm-batch extract run`';
  const givenUp = `given up at ${next} (FAILED, EXTRACT_GIVEN_UP; \`extract run --retry\` re-opens it)`;
  const lastAttempt = b.attempts >= retry.maxAttempts;
  if (b.instanceId === null) return `re-opened by an operator: written at ${next}`;
  if (b.errorCode !== null) {
    if (lastAttempt) return `extract attempt ${b.attempts} of ${retry.maxAttempts} failed (${b.errorCode}): ${givenUp}`;
    return `extract attempt ${b.attempts} of ${retry.maxAttempts} failed (${b.errorCode}): retried at ${expired ? next : `the first daemon poll or \`extract run\` after ${b.leaseUntil}`}`;
  }
  if (!expired) return `extract in progress, attempt ${b.attempts} of ${retry.maxAttempts}, lease until ${b.leaseUntil}`;
  return lastAttempt ? `its holder stopped; attempts used up: ${givenUp}` : `its holder stopped: the extract is taken over at ${next} (attempt ${b.attempts + 1} of ${retry.maxAttempts})`;
}

export async function runBatchesList(o: { client?: string; state?: string; limit: string; json?: boolean; config?: string }): Promise<void> {
  const limit = Number(o.limit);
  if (!/^\d+$/.test(o.limit) || !Number.isInteger(limit) || limit < 1) throw new LdmError('USAGE', `--limit must be a positive whole number, got "${o.limit}"`, { exitCode: 2 });
  const state = o.state?.toUpperCase();
  if (state !== undefined && !(BATCH_STATES as readonly string[]).includes(state)) {
    throw new LdmError('USAGE', `--state must be one of ${BATCH_STATES.join(', ')}, got "${o.state}"`, { exitCode: 2 });
  }
  const app = await openApp(o.config);
  try {
    const rows = await listBatches(app.db, { limit, clientId: o.client, state });
    if (o.json) return printJson(rows);
    if (rows.length === 0) return print('no batches');
    print(['id', 'client', 'file', 'fileId', 'state', 'instance', 'lines', 'ref.date', 'processedAt', 'counts / error / next'].join('\t'));
    const now = new Date(await journalNowMs(app.db)).toISOString();
    for (const b of rows) {
      const last = b.state === 'CLAIMED' ? future(b, now, app.config.retry) : (b.errorCode ?? counts(b));
      const holder = b.state === 'CLAIMED' ? `${b.instanceId ?? '-'} (lease ${b.leaseUntil ?? '-'})` : (b.instanceId ?? '-');
      print([b.id, b.clientId ?? '-', b.fileName, b.fileId ?? '-', b.state, holder, b.recordCount ?? '-', b.referenceDate, b.processedAt, last].join('\t'));
    }
  } finally {
    await app.close();
  }
}

export async function runBatchesShow(id: string, o: { json?: boolean; config?: string }): Promise<void> {
  const app = await openApp(o.config);
  try {
    const b = await findBatch(app.db, id);
    if (!b) throw new LdmError('NO_BATCH', `no batch with id or FileId "${id}"`, { exitCode: 1 });
    if (o.json) return printJson(b);
    for (const [k, v] of Object.entries(b)) {
      const value = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? '-');
      print(`${k.padEnd(15)} ${value.includes('\n') ? '\n  ' + value.split('\n').join('\n  ') : value}`);
    }
    if (b.state === 'CLAIMED') print(`${'next'.padEnd(15)} ${future(b, new Date(await journalNowMs(app.db)).toISOString(), app.config.retry)}`);
  } finally {
    await app.close();
  }
}
