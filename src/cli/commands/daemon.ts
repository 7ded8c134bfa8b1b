// The daemon: every spool on the cron schedule, never overlapping itself; on SIGTERM/SIGINT the
// file in hand is finished (or stays claimable) and the process exits 0.
import cron from 'node-cron';
import { openApp } from '../context.js';
import { pollOnce } from '../../pipeline/runOnce.js';
import type { PickupState } from '../../spool/pickup.js';
import { createLogger } from '../../log/logger.js';
import { errorMessage } from '../../errors.js';
import { spoolContext } from './runOnce.js';

export async function runDaemon(o: { config?: string }): Promise<void> {
  const app = await openApp(o.config);
  const log = createLogger({ base: { instance: app.config.instanceId } });
  const ctx = await spoolContext(app, log);
  const states = new Map<string, PickupState>(app.clients.map((c) => [c.clientId, { previous: new Map() }]));
  let stopping = false;
  let running: Promise<void> | null = null;

  const tick = (): void => {
    if (stopping) return;
    if (running) {
      log.warn('poll.skipped', { reason: 'the previous poll is still running' });
      return;
    }
    const started = Date.now();
    running = pollOnce(ctx, app.clients, { minAgeMs: app.config.spool.minAgeSeconds * 1000, states, shouldStop: () => stopping })
      .then((s) => log.info('poll.done', { files: s.files.length, ms: Date.now() - started }))
      .catch((err: unknown) => log.error('poll.failed', { error: errorMessage(err) }))
      .finally(() => {
        running = null;
      });
  };

  if (!cron.validate(app.config.schedule)) {
    log.error('daemon.bad_schedule', { schedule: app.config.schedule });
    process.exitCode = 2;
    return;
  }
  const task = cron.schedule(app.config.schedule, tick, { timezone: app.config.timezone, noOverlap: true });
  log.info('daemon.started', { schedule: app.config.schedule, timezone: app.config.timezone, spool: ctx.transport.description, clients: app.clients.length });
  tick();

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('daemon.stopping', { signal });
      void task.stop();
      resolveStop();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  if (running) await running;
  await ctx.transport.close();
  await app.close();
  log.info('daemon.stopped');
  process.exitCode = 0;
}
