// When a batch whose attempt met a transient fault is tried again, and when it is given up
// (graphile-worker's exponential backoff with a maximum of attempts). Pure: the caller passes
// the attempt count and the times, read from the journal on the database's clock.

export interface RetryPolicy {
  /** Attempts in all (the first included) before the batch ends FAILED with INTERNAL_ERROR. */
  maxAttempts: number;
  /** Wait before the second attempt; each further wait doubles, up to maxDelaySeconds. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** No new attempt starts this long after the batch was claimed, whatever the count. */
  maxSeconds: number;
}

/** Defaults (README "Transient faults"): 8 attempts over about an hour (0.5 + 1 + 2 + 4 + 8 + 16 + 30 min ≈ 62 min). */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, firstDelaySeconds: 30, maxDelaySeconds: 1800, maxSeconds: 24 * 3600 };

/** Seconds to wait after attempt `attempt` (1-based) failed. */
export function retryDelaySeconds(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelaySeconds, policy.firstDelaySeconds * 2 ** Math.max(0, attempt - 1));
}

/** Whether a batch that has had `attempts` attempts, claimed `ageSeconds` ago, may get another one. */
export function mayRetry(policy: RetryPolicy, attempts: number, ageSeconds: number): boolean {
  return attempts < policy.maxAttempts && ageSeconds < policy.maxSeconds;
}
