import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

// This file sits two levels below the package root, both as src/config/*.ts (vitest) and as
// dist/config/*.js (the compiled CLI).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A path inside the installed package (schemas/, fixtures/reference/…). */
export function packagePath(...parts: string[]): string {
  return join(ROOT, ...parts);
}
