// Which files in in/ are complete enough to take (Camel's readLock=changed): a final name,
// at least minAge old, and — when the poller has seen the folder before — unchanged since then.
import { isCandidateRequest, type SpoolEntry } from './transport.js';

export interface PickupState {
  /** name -> size/mtime seen at the previous poll */
  previous: Map<string, { size: number; mtimeMs: number }>;
}

export function pickReady(entries: readonly SpoolEntry[], state: PickupState | undefined, nowMs: number, minAgeMs: number): SpoolEntry[] {
  const ready = entries.filter((e) => {
    if (!isCandidateRequest(e.name) || e.kind !== undefined) return false;
    if (nowMs - e.mtimeMs < minAgeMs) return false;
    if (!state) return true;
    const before = state.previous.get(e.name);
    return before !== undefined && before.size === e.size && before.mtimeMs === e.mtimeMs;
  });
  if (state) {
    state.previous = new Map(entries.filter((e) => isCandidateRequest(e.name)).map((e) => [e.name, { size: e.size, mtimeMs: e.mtimeMs }]));
  }
  return ready;
}
