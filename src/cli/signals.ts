// SIGTERM / SIGINT from the first moment of the process. Loading the modules and opening the store
// take about a second; a signal then used to kill the process (exit 143) before any command could
// stop cleanly. bin/ldm-batch.js installs this before it loads anything else: a signal that comes
// before a command has said how it stops is remembered, and handed to it when it starts.
// Kept free of imports: it must load in a few milliseconds.

let received: NodeJS.Signals | undefined;
/** undefined until a command starts; then whether it handles stop signals itself. */
let commandHandlesStop: boolean | undefined;

const SIGNAL_NUMBER: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

function exitFor(signal: NodeJS.Signals): never {
  process.stderr.write(`ldm-batch: stopped by ${signal}\n`);
  process.exit(128 + (SIGNAL_NUMBER[signal] ?? 15));
}

function onSignal(signal: NodeJS.Signals): void {
  // A second signal before anyone took the first (say the store takes long to answer): the operator wants out.
  if (received !== undefined && process.listenerCount(signal) === 1) exitFor(signal);
  received ??= signal;
  // Remembered: for the command about to start, or for the one that reads it once it is ready.
  if (commandHandlesStop !== false) return;
  // A command (or a step of it) that listens for the signal decides; otherwise stop as the
  // default action would, without a trace.
  if (process.listenerCount(signal) > 1) return;
  exitFor(signal);
}

export function watchStopSignals(): void {
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Called as a command starts. A command that stops cleanly on a signal (`handlesStop`) reads
 * any signal that came before with `stopRequestedEarly`; any other ends now if one came.
 */
export function commandStarting(handlesStop: boolean): void {
  commandHandlesStop = handlesStop;
  if (received !== undefined && !handlesStop) exitFor(received);
}

/** The first stop signal received so far (before the command's own handler was installed). */
export function stopRequestedEarly(): NodeJS.Signals | undefined {
  return received;
}
