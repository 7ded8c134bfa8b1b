#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
import { main } from '../dist/cli/main.js';

const code = await main(process.argv);
process.exitCode = code;
