// LocalSpool against the shared transport contract.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSpool } from '../../src/spool/local.js';
import { describeTransportContract } from './contract.js';

describeTransportContract('LocalSpool', async () => {
  const rootDir = await mkdtemp(join(tmpdir(), 'ldm-local-spool-'));
  return {
    rootDir,
    make: () => new LocalSpool(rootDir),
    cleanup: () => rm(rootDir, { recursive: true, force: true }),
  };
});
