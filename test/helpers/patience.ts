// How long a test waits for something that will happen: a limit only matters when the thing never
// happens (the test then fails with a message), so it is set for a loaded machine, not a quiet one.
// Waits return as soon as the condition holds; a generous limit costs nothing on success.
export const PATIENCE = Math.max(1, Number(process.env.LDM_TEST_PATIENCE ?? 4));

/** A waiting limit stretched for a machine shared with other work (LDM_TEST_PATIENCE, default 4). */
export const patient = (ms: number): number => Math.round(ms * PATIENCE);
