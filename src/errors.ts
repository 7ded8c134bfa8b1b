// Errors an operator sees carry a stable code and a message that says what to do.
export class LdmError extends Error {
  readonly code: string;
  /** Process exit code when this error ends a CLI command (contract §9: 2 = bad usage or config). */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LdmError';
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
