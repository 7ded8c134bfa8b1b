// A write error injected into the spool transport (runs everywhere, also where no tmpfs can be
// mounted): a read-only out/ (EROFS) keeps the batch CLAIMED and retried, /metrics and /healthz
// show it in retry, and it is answered once out/ is writable again. Every log line is kept, so
// the test also checks that the fault was logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeInstance, type Instance } from '../helpers/instance.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import { openApp, type AppContext } from '../../src/cli/context.js';
import { spoolContext } from '../../src/cli/commands/runOnce.js';
import { createLogger } from '../../src/log/logger.js';
import { pollClient } from '../../src/pipeline/runOnce.js';
import { Metrics } from '../../src/daemon/metrics.js';
import { Health } from '../../src/daemon/health.js';
import { getBatch } from '../../src/journal/batches.js';
import type { SpoolContext } from '../../src/pipeline/processSpoolFile.js';
import type { SpoolTransport } from '../../src/spool/transport.js';
import * as S from './scenario.js';

let inst: Instance;
let app: AppContext;
const logs: { event: string; code?: string }[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  inst = await makeInstance();
  const cfg = JSON.parse(await readFile(inst.config, 'utf8'));
  await writeFile(inst.config, JSON.stringify({ ...cfg, leaseSeconds: 0.3, retry: { maxAttempts: 3, firstDelaySeconds: 0.2, maxDelaySeconds: 0.2, maxSeconds: 3600 } }));
  await S.importScenario(inst);
  await mkdir(join(inst.spool, 'fin', 'in'), { recursive: true });
  app = await openApp(inst.config);
}, 120_000);
afterAll(async () => {
  await app?.close();
  await inst?.cleanup();
});

/** The real transport, with out/ read-only while `readOnly.on`. */
function withReadOnlyOut(t: SpoolTransport, readOnly: { on: boolean }): SpoolTransport {
  return new Proxy(t, {
    get(target, prop, receiver) {
      if (prop === 'publish') {
        return async (...args: Parameters<SpoolTransport['publish']>) => {
          if (readOnly.on && args[2] === 'out') throw Object.assign(new Error(`EROFS: read-only file system, copyfile '${args[0]}'`), { code: 'EROFS', errno: -30 });
          return target.publish(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('EROFS on out/ (injected)', () => {
  it('retries at later polls, shows the batch in retry, answers once out/ is writable', async () => {
    const log = createLogger({ write: (line) => logs.push(JSON.parse(line) as { event: string; code?: string }), base: {} });
    const base = await spoolContext(app, log, S.AS_OF);
    const readOnly = { on: true };
    const ctx: SpoolContext = { ...base, transport: withReadOnlyOut(base.transport, readOnly) };
    const fin = app.clients.find((c) => c.clientId === 'fin');
    if (!fin) throw new Error('scenario client fin missing');
    await writeRequestFile(join(inst.spool, 'fin', 'in', 'E.xml'), S.header({ fileId: 'FIN-EROFS' }), S.lines);
    const metrics = new Metrics('test', ['fin']);
    const health = new Health('test', [{ client: 'fin', schedule: '* * * * *' }]);

    const first = await pollClient(ctx, fin, { minAgeMs: 0 });
    expect(first.files.map((f) => f.outcome)).toEqual(['RETRYING']);
    expect(first.inRetry).toBe(1);
    metrics.recordPoll(first, 0);
    health.succeeded('fin', new Date(), first.files.length, first.inRetry);
    expect(await metrics.render()).toContain('ldm_batches_in_retry{client="fin"} 1');
    expect(health.report().body.spools[0].batchesInRetry).toBe(1);
    expect(logs.some((l) => l.event === 'batch.retry_later' && l.code === 'EROFS')).toBe(true);
    const id = (await app.db('batches').where({ file_name: 'E.xml' }).first()).id as number;
    expect(await getBatch(app.db, id)).toMatchObject({ state: 'CLAIMED', errorCode: 'EROFS', attempts: 1 });
    expect(existsSync(join(inst.spool, 'fin', 'error', 'E.xml'))).toBe(false);

    readOnly.on = false;
    await sleep(400); // past the backoff (0.2 s) and the lease (0.3 s)
    const second = await pollClient(ctx, fin, { minAgeMs: 0 });
    expect(second.files.map((f) => f.outcome)).toEqual(['ANSWERED']);
    expect(second.inRetry).toBe(0);
    metrics.recordPoll(second, 0);
    expect(await metrics.render()).toContain('ldm_batches_in_retry{client="fin"} 0');
    expect(await getBatch(app.db, id)).toMatchObject({ state: 'DONE', errorCode: null, attempts: 2 });
    expect(existsSync(join(inst.spool, 'fin', 'out', 'E.response.xml'))).toBe(true);
    await ctx.transport.close();
  }, 120_000);
});
