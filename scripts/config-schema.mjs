#!/usr/bin/env node
// Writes schemas/ldm-batch.config.schema.json from the config's zod schema (src/config/schema.ts).
// test/config.test.ts fails when the committed file differs from what this writes.
// Usage: npx tsc -p tsconfig.json && node scripts/config-schema.mjs
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../dist/config/schema.js';

const out = fileURLToPath(new URL('../schemas/ldm-batch.config.schema.json', import.meta.url));
writeFileSync(out, JSON.stringify(configJsonSchema(), null, 2) + '\n');
console.log(`wrote ${out}`);
