// Constant memory for big batches. A batch keeps little alive (a few thousand lines in flight),
// but V8 lets its old generation grow to several times that before collecting it: with a few
// tens of MB of live data the heap would reach 150-200 MB on a million-line file. Growing the
// heap by at most half of what is live after each full collection keeps it near the live size,
// for a few more (short: little is live) full collections. V8 reads this flag at every
// collection, so setting it at run time takes effect.
import { setFlagsFromString } from 'node:v8';

let bounded = false;

export function boundHeapGrowth(): void {
  if (bounded) return;
  bounded = true;
  setFlagsFromString('--heap-growing-percent=50');
}
