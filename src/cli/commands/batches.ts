import { openApp } from '../context.js';
import { findBatch, listBatches, type BatchRecord } from '../../journal/batches.js';
import { LdmError } from '../../errors.js';
import { print, printJson } from '../output.js';

function counts(b: BatchRecord): string {
  return Object.entries(b.statusCounts)
    .sort(([a], [c]) => a.localeCompare(c))
    .map(([c, n]) => `${c}=${n}`)
    .join(' ');
}

export async function runBatchesList(o: { client?: string; state?: string; limit: string; json?: boolean; config?: string }): Promise<void> {
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new LdmError('USAGE', '--limit must be a positive whole number', { exitCode: 2 });
  const app = await openApp(o.config);
  try {
    const rows = await listBatches(app.db, { limit, clientId: o.client, state: o.state?.toUpperCase() });
    if (o.json) return printJson(rows);
    if (rows.length === 0) return print('no batches');
    print(['id', 'client', 'file', 'fileId', 'state', 'instance', 'lines', 'ref.date', 'processedAt', 'counts / error'].join('\t'));
    const now = new Date().toISOString();
    for (const b of rows) {
      // A batch in flight shows who holds it and until when; an expired lease means its holder
      // stopped renewing it (died or stalled), and the next poll of any instance takes it over.
      const expired = b.leaseUntil !== null && b.leaseUntil < now ? ', expired: taken over at the next poll' : '';
      const holder = b.state === 'CLAIMED' ? `${b.instanceId ?? '-'} (lease ${b.leaseUntil ?? '-'}${expired})` : (b.instanceId ?? '-');
      print([b.id, b.clientId ?? '-', b.fileName, b.fileId ?? '-', b.state, holder, b.recordCount ?? '-', b.referenceDate, b.processedAt, b.errorCode ?? counts(b)].join('\t'));
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
  } finally {
    await app.close();
  }
}
