// What `batches list|show` say will happen to a CLAIMED row (cli/commands/batches.ts future): a
// spool batch, a process/reprocess run, and a scheduled extract each have their own next step.
import { describe, expect, it } from 'vitest';
import { future } from '../../src/cli/commands/batches.js';
import type { BatchRecord } from '../../src/journal/record.js';

const NOW = '2026-11-30T12:00:00.000Z';
const LIVE = '2026-11-30T12:05:00.000Z';
const GONE = '2026-11-30T11:55:00.000Z';
const RETRY = { maxAttempts: 3, firstDelaySeconds: 30, maxDelaySeconds: 1800, maxSeconds: 86_400 };

function row(o: Partial<BatchRecord>): BatchRecord {
  return {
    id: 1, clientId: null, fileName: 'F.xml', size: 1, sha256: '', fileId: null, service: null, state: 'CLAIMED', referenceDate: '2026-11-30',
    processedAt: NOW, responseName: null, responseSha256: null, archiveName: null, responseCopy: null, recordCount: null, statusCounts: {},
    errorCode: null, error: null, instanceId: 'ldm-a', leaseUntil: LIVE, claimName: null, deliveredAt: null, attempts: 1, createdAt: NOW, updatedAt: NOW, storeVersion: 1,
    ...o,
  };
}

const SPOOL = 'F.xml.ldm-processing.ldm-a.1';
const EXTRACT = 'extract:fin:2025';

describe('future of a CLAIMED row', () => {
  it.each([
    ['a DONE row', row({ state: 'DONE' }), /^$/],
    ['spool, live', row({ claimName: SPOOL }), /^in progress, attempt 1 of 3, lease until/],
    ['spool, holder gone', row({ claimName: SPOOL, leaseUntil: GONE }), /taken over at the next poll \(attempt 2 of 3\)/],
    ['spool, holder gone, last attempt', row({ claimName: SPOOL, leaseUntil: GONE, attempts: 3 }), /INTERNAL_ERROR to the client/],
    ['spool, failed attempt waiting', row({ claimName: SPOOL, errorCode: 'STORE_BUSY' }), /retried at the first poll after/],
    ['process command, live', row({}), /running \(a process\/reprocess command\)/],
    ['process command, stopped', row({ leaseUntil: GONE }), /ABANDONED/],
    ['extract, live', row({ claimName: EXTRACT }), /^extract in progress, attempt 1 of 3/],
    ['extract, holder gone', row({ claimName: EXTRACT, leaseUntil: GONE }), /extract is taken over at the next daemon poll or `ldm-batch extract run` \(attempt 2 of 3\)/],
    ['extract, holder gone, last attempt', row({ claimName: EXTRACT, leaseUntil: GONE, attempts: 3 }), /EXTRACT_GIVEN_UP/],
    ['extract, failed attempt waiting', row({ claimName: EXTRACT, errorCode: 'EROFS' }), /retried at the first daemon poll or `extract run` after/],
    ['extract, failed last attempt', row({ claimName: EXTRACT, errorCode: 'EROFS', attempts: 3, leaseUntil: GONE }), /failed \(EROFS\): given up .*--retry/],
    ['extract re-opened by an operator', row({ claimName: EXTRACT, instanceId: null, leaseUntil: null, attempts: 0 }), /^re-opened by an operator/],
  ])('%s', (_, b, want) => {
    const said = future(b, NOW, RETRY);
    expect(said).toMatch(want);
    // an extract is never said to answer the client with INTERNAL_ERROR (nothing is sent for it)
    if (b.claimName === EXTRACT) expect(said).not.toMatch(/INTERNAL_ERROR|client/);
  });
});
