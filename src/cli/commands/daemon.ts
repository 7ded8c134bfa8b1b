// `daemon`: polls every spool on its cron schedule until SIGTERM/SIGINT. The first signal stops
// the schedules and lets the files in hand finish (up to shutdownGraceSeconds); a second signal,
// or the grace running out, exits at once and leaves them claimed for lease recovery. Exit 0.
import { openApp } from '../context.js';
import { parsePort } from '../../config/config.js';
import { createLogger } from '../../log/logger.js';
import { Daemon, daemonSettings } from '../../daemon/daemon.js';
import type { SpoolContext } from '../../pipeline/processSpoolFile.js';
import { spoolContext } from './runOnce.js';
import { stopRequestedEarly } from '../signals.js';

export async function runDaemon(o: { config?: string; httpPort?: string }): Promise<void> {
  // Checked before the store is opened: an open database would keep the process alive after the error.
  const httpPort = o.httpPort === undefined ? undefined : parsePort(o.httpPort, '--http-port', true);
  const app = await openApp(o.config);
  const log = createLogger({ base: { instance: app.config.instanceId } });
  const httpOverride = httpPort === undefined ? undefined : { host: app.config.http?.host ?? '127.0.0.1', port: httpPort };
  let ctx: SpoolContext | undefined;
  let daemon: Daemon | undefined;
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const first = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
  const handler = (signal: NodeJS.Signals): void => onSignal(signal);
  // Installed first: a signal during start-up must not kill the process half-way.
  for (const s of signals) process.on(s, handler);
  const started = Date.now();
  try {
    // A signal while the modules loaded or the store opened: stop before starting anything.
    const early = stopRequestedEarly();
    if (early !== undefined) {
      log.info('daemon.stopping', { signal: early, beforeStart: true });
    } else {
      ctx = await spoolContext(app, log);
      daemon = new Daemon(ctx, app.clients, daemonSettings(app.config, httpOverride), log);
      const d = daemon;
      await d.start();
      const signal = await first;
      onSignal = (again) => {
        // A second signal: the operator wants out now. The batches in hand stay claimed.
        d.logAbandoned(`second signal (${again}) during shutdown`);
        log.info('daemon.stopped', { abandoned: true, ms: Date.now() - started });
        process.exit(0);
      };
      if (!(await d.stop(signal))) {
        // Closing the connection under a running batch would fail it; exiting leaves it claimed.
        log.info('daemon.stopped', { abandoned: true, ms: Date.now() - started });
        process.exit(0);
      }
    }
  } finally {
    await (daemon ? daemon.close() : ctx?.transport.close());
    await app.close();
    for (const s of signals) process.off(s, handler);
  }
  log.info('daemon.stopped', { abandoned: false, ms: Date.now() - started });
  process.exitCode = 0;
  // Everything is closed; should a library still hold a handle, do not hang a service manager.
  setTimeout(() => process.exit(0), 3_000).unref();
}
