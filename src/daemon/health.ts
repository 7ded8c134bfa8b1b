// What /healthz reports: per spool (client), the last poll's result. Healthy (HTTP 200) only
// when every spool's last poll succeeded; a spool not yet polled, failing or stopped makes it 503.
import { redact } from '../log/logger.js';

export type SpoolState = 'pending' | 'ok' | 'failing' | 'stopped';

export interface SpoolHealth {
  client: string;
  schedule: string;
  state: SpoolState;
  /** A poll of this spool is running now. */
  polling: boolean;
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  /** Masked: an SSIN in an error message never leaves the process in full. */
  lastError: { code: string; message: string; at: string } | null;
  consecutiveFailures: number;
  /** Files the last successful poll processed (taken over ones included). */
  filesInLastPoll: number | null;
  /** Batches waiting for a retry after a transient fault, as the last successful poll left them. */
  batchesInRetry: number;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  instanceId: string;
  startedAt: string;
  spools: SpoolHealth[];
}

export class Health {
  private readonly spools = new Map<string, SpoolHealth>();
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly instanceId: string,
    schedules: readonly { client: string; schedule: string }[],
  ) {
    for (const { client, schedule } of schedules) {
      this.spools.set(client, { client, schedule, state: 'pending', polling: false, lastPollAt: null, lastSuccessAt: null, lastFailureAt: null, lastError: null, consecutiveFailures: 0, filesInLastPoll: null, batchesInRetry: 0 });
    }
  }

  private get(client: string): SpoolHealth {
    const s = this.spools.get(client);
    if (!s) throw new Error(`no health entry for client ${client}`);
    return s;
  }

  state(client: string): SpoolState {
    return this.get(client).state;
  }

  consecutiveFailures(client: string): number {
    return this.get(client).consecutiveFailures;
  }

  started(client: string, at: Date): void {
    const s = this.get(client);
    s.polling = true;
    s.lastPollAt = at.toISOString();
  }

  succeeded(client: string, at: Date, files: number, inRetry = 0): void {
    const s = this.get(client);
    s.batchesInRetry = inRetry;
    s.polling = false;
    s.state = 'ok';
    s.lastSuccessAt = at.toISOString();
    s.consecutiveFailures = 0;
    s.filesInLastPoll = files;
  }

  /** `stop`: the spool is not polled again until a restart. */
  failed(client: string, at: Date, code: string, message: string, stop: boolean): void {
    const s = this.get(client);
    s.polling = false;
    s.state = stop ? 'stopped' : 'failing';
    s.lastFailureAt = at.toISOString();
    s.lastError = { code, message: redact(message), at: at.toISOString() };
    s.consecutiveFailures++;
  }

  report(): { httpStatus: 200 | 503; body: HealthReport } {
    const spools = [...this.spools.values()].map((s) => ({ ...s, lastError: s.lastError ? { ...s.lastError } : null }));
    const healthy = spools.every((s) => s.state === 'ok');
    return { httpStatus: healthy ? 200 : 503, body: { status: healthy ? 'ok' : 'degraded', instanceId: this.instanceId, startedAt: this.startedAt, spools } };
  }
}
