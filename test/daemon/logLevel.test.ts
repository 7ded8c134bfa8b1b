// A quiet tick is not news: at the default log level the daemon logs a poll only when it found
// something (poll.started and empty poll.done lines are debug), on a local spool ticking every second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Instance } from '../helpers/instance.js';
import { EVERY_SECOND, dropRequest, scenarioInstance, startDaemon, waitUntil } from './harness.js';
import { patient } from '../helpers/patience.js';

describe('daemon log level of polls', () => {
  let inst: Instance;
  let config: string;
  beforeAll(async () => {
    inst = await scenarioInstance();
    const base = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
    config = join(inst.dir, 'every-second.json');
    await writeFile(config, JSON.stringify({ ...base, schedule: EVERY_SECOND, notifySchedule: 'off' }));
  }, patient(60_000));
  afterAll(async () => inst?.cleanup());

  for (const level of ['info', 'debug'] as const) {
    it(`at ${level}: ${level === 'info' ? 'no poll.started, and poll.done only for polls that saw or took a file' : 'every poll is logged'}`, async () => {
      const d = startDaemon(config, { LDM_BATCH_LOG_LEVEL: level });
      try {
        await d.waitFor((e) => e.event === 'daemon.started', 10_000, 'daemon.started');
        const name = `LOG-${level}.xml`;
        await dropRequest(join(inst.spool, 'fin', 'in'), name);
        await waitUntil(() => existsSync(join(inst.spool, 'fin', 'out', `LOG-${level}.response.xml`)), 20_000, 'the response');
        expect((await d.signal('SIGTERM')).code).toBe(0);
        const polls = d.events.filter((e) => e.event === 'poll.started' || e.event === 'poll.done');
        if (level === 'info') {
          expect(polls.filter((e) => e.event === 'poll.started')).toEqual([]);
          expect(polls.length).toBeGreaterThan(0);
          for (const e of polls) expect(Number(e.seen) + Number(e.files), JSON.stringify(e)).toBeGreaterThan(0);
        } else {
          expect(polls.some((e) => e.event === 'poll.started')).toBe(true);
          // Each poll that ran to its end says so (a tick after the file may or may not have come).
          const started = polls.filter((e) => e.event === 'poll.started').length;
          expect(polls.filter((e) => e.event === 'poll.done').length).toBeGreaterThanOrEqual(Math.min(started - 1, 2));
        }
      } finally {
        if (d.child.exitCode === null) d.child.kill('SIGKILL');
      }
    });
  }
});
