#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
// Stop signals are watched before the rest loads (see src/cli/signals.ts), hence the late import.
import { watchStopSignals } from '../dist/cli/signals.js';

watchStopSignals();
const { main } = await import('../dist/cli/main.js');
const code = await main(process.argv);
process.exitCode = code;
