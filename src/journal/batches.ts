// The batch journal: one row per request file seen. Every transition names the expected
// previous state and holder and checks the row count, so a stale worker can never overwrite a
// result (a refused update is LEASE_LOST: see leaseLost.ts). One operation per file, as
// graphile-worker keeps its SQL; this module gathers them. Times come from the database's clock.
export { BATCH_STATES, DEFAULT_LEASE_SECONDS, type BatchRecord, type BatchState } from './record.js';
export { claimBatch, type ClaimInput } from './claimBatch.js';
export { auditLeaseFence, heartbeat, renewOrLost } from './heartbeat.js';
export { takeOver } from './takeOver.js';
export { expiredBatches } from './expiredBatches.js';
export { claimedBatches } from './claimedBatches.js';
export { markBatch } from './markBatch.js';
export { withdrawClaim } from './withdrawClaim.js';
export { completeBatch, type Completion } from './completeBatch.js';
export { failBatch, type Failure } from './failBatch.js';
export { deferBatch } from './deferBatch.js';
export { findAnsweredByFileId } from './findAnsweredByFileId.js';
export { getBatch } from './getBatch.js';
export { findBatch } from './findBatch.js';
export { findByClaimName } from './findByClaimName.js';
export { listBatches, journalNowMs } from './listBatches.js';
export { lastFinished } from './lastFinished.js';
export { lastBatchId } from './lastBatchId.js';
export { countInRetry } from './countInRetry.js';
export { leaseLost, isLeaseLost } from './leaseLost.js';
export { dbNowMs } from './dbClock.js';
export { failAbandonedRuns } from './failAbandonedRuns.js';
