// The command line as users of well-made CLIs expect it: usage errors in the house format with
// exit 2, invalid enum values refused, no future reference date, no silent overwrite, run-once
// saying what happened to each file, readable import output, next steps after init, and a
// progress bar only on a terminal (never in a log).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, makeInstance, run, type Instance } from '../helpers/instance.js';
import { writeRequestFile } from '../../src/generate/requests.js';
import { countInFile, requestLineCount } from '../../src/cli/output.js';
import * as S from '../pipeline/scenario.js';

let inst: Instance;
const folder = (f: string): string => join(inst.spool, 'fin', f);

beforeAll(async () => {
  inst = await makeInstance();
  await S.importScenario(inst);
  await mkdir(folder('in'), { recursive: true });
});
afterAll(async () => inst?.cleanup());

describe('usage errors', () => {
  it.each([
    [['batches', 'list', '--bogus'], /^ldm-batch: unknown option '--bogus' \(see "ldm-batch batches list --help"\) \[USAGE\]\n$/],
    [['proces', 'x.xml'], /^ldm-batch: unknown command 'proces' \(Did you mean process\?\) \(see "ldm-batch --help"\) \[USAGE\]\n$/],
    [['process'], /^ldm-batch: missing required argument 'request' \(see "ldm-batch process --help"\) \[USAGE\]\n$/],
    [['repertory', 'register', '--ssin', '1'], /^ldm-batch: required option '--sector <n>' not specified \(see "ldm-batch repertory register --help"\) \[USAGE\]\n$/],
  ])('%j: one line in the house format, no help dump, exit 2', async (args, message) => {
    const r = await run(process.execPath, [BIN, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('--help still prints the help and exits 0', async () => {
    const r = await run(process.execPath, [BIN, 'process', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--force/);
  });

  it('batches list --state BOGUS is refused (exit 2); a valid state in any case is accepted', async () => {
    const bad = await inst.cli(['batches', 'list', '--state', 'BOGUS']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('ldm-batch: --state must be one of CLAIMED, DONE, REJECTED, FAILED, got "BOGUS" [USAGE]\n');
    expect((await inst.cli(['batches', 'list', '--state', 'done'])).code).toBe(0);
    expect((await inst.cli(['batches', 'list', '--limit', '3x'])).code).toBe(2);
  });
});

describe('process', () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(inst.dir, 'p');
    await mkdir(dir, { recursive: true });
    await writeRequestFile(join(dir, 'R.xml'), S.header({ fileId: 'FIN-P1' }), S.lines);
  });

  it('refuses a reference date in the future (exit 2), before writing or journaling anything', async () => {
    const before = JSON.parse((await inst.cli(['batches', 'list', '--json'])).stdout).length;
    const r = await inst.cli(['process', join(dir, 'R.xml'), '--as-of', '2999-01-01'], { env: { LDM_BATCH_CLOCK: '2026-02-15T03:00:00Z' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ldm-batch: --as-of 2999-01-01 is in the future \(today is 2026-02-15 in Europe\/Brussels\).* \[USAGE\]\n$/);
    expect(existsSync(join(dir, 'R.response.xml'))).toBe(false);
    expect(JSON.parse((await inst.cli(['batches', 'list', '--json'])).stdout).length).toBe(before);
    // Today itself is fine (the clock's day in the configured zone).
    const today = await inst.cli(['process', join(dir, 'R.xml'), '-o', join(dir, 'today.xml'), '--as-of', '2026-02-15'], { env: { LDM_BATCH_CLOCK: '2026-02-15T03:00:00Z' } });
    expect(today.code, today.stderr).toBe(0);
    expect((await inst.cli(['run-once', '--as-of', '2026-02-16'], { env: { LDM_BATCH_CLOCK: '2026-02-15T03:00:00Z' } })).code).toBe(2);
    expect((await inst.cli(['reprocess', 'FIN-P1', '--as-of', '2026-02-16'], { env: { LDM_BATCH_CLOCK: '2026-02-15T03:00:00Z' } })).stderr).toMatch(/in the future/);
  });

  it('refuses to overwrite an existing response file unless --force', async () => {
    const out = join(dir, 'out.xml');
    await writeFile(out, 'the only copy of what was sent');
    const r = await inst.cli(['process', join(dir, 'R.xml'), '-o', out, '--as-of', S.AS_OF]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ldm-batch: ${out} exists already; choose another -o file, or pass --force to replace it [OUTPUT_EXISTS]\n`);
    expect(await readFile(out, 'utf8')).toBe('the only copy of what was sent');
    const forced = await inst.cli(['process', join(dir, 'R.xml'), '-o', out, '--as-of', S.AS_OF, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toMatch(/<BatchResponse/);
    // The default output beside the request is protected the same way.
    expect((await inst.cli(['process', join(dir, 'R.xml'), '--as-of', S.AS_OF])).code).toBe(0);
    expect((await inst.cli(['process', join(dir, 'R.xml'), '--as-of', S.AS_OF])).code).toBe(2);
  });
});

describe('run-once output', () => {
  it('names the outcome, the code, the batch and the response path (human and --json)', async () => {
    await writeRequestFile(join(folder('in'), 'OK.xml'), S.header({ fileId: 'FIN-RO1' }), S.lines);
    await writeRequestFile(join(folder('in'), 'BAD.xml'), S.header({ fileId: 'FIN-RO2' }), S.lines, { recordCount: S.lines.length + 1 });
    const r = await inst.cli(['run-once', '--as-of', S.AS_OF, '--json']);
    expect(r.code).toBe(1);
    const files = (JSON.parse(r.stdout) as { files: Record<string, unknown>[] }).files;
    expect(files).toEqual([
      { client: 'fin', file: 'BAD.xml', outcome: 'REJECTED', batch: expect.any(Number), code: 'TRAILER_MISMATCH', response: 'fin/out/BAD.response.xml', lines: 0 },
      { client: 'fin', file: 'OK.xml', outcome: 'ANSWERED', batch: expect.any(Number), code: null, response: 'fin/out/OK.response.xml', lines: S.lines.length },
    ]);
    await writeRequestFile(join(folder('in'), 'BAD2.xml'), S.header({ fileId: 'FIN-RO3' }), S.lines, { recordCount: 1 });
    const human = await inst.cli(['run-once', '--as-of', S.AS_OF]);
    expect(human.stdout).toMatch(/^fin\/in\/BAD2\.xml: REJECTED TRAILER_MISMATCH \(batch \d+\) → fin\/out\/BAD2\.response\.xml$/m);
  });
});

describe('import and init output', () => {
  it('import rights prints the notify summary as text, not JSON', async () => {
    const csv = await inst.writeCsv('rights.csv', `right_id,version,ssin,ocmw_cbe,right_type,start_date,end_date,event,decided_on\nR-U1,1,${S.A},${S.OCMW},LEEFLOON,2025-01-01,,CREATED,2025-01-03\n`);
    const r = await inst.cli(['import', 'rights', csv]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^imported 1 rights row\(s\)/);
    expect(r.stdout).toMatch(/^notify: \d+ new event\(s\), \d+ notification\(s\) queued$/m);
    expect(r.stdout).not.toMatch(/[{}]/);
  });

  it('init prints the next steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldm-init-'));
    try {
      const r = await run(process.execPath, [BIN, 'init', dir]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/next steps:\n {2}1\. declare your clients: +ldm-batch import clients/);
      expect(r.stdout).toMatch(/ldm-batch check --config/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('progress', () => {
  let big: string;
  beforeAll(async () => {
    big = join(inst.dir, 'big.xml');
    const many = Array.from({ length: 12_000 }, (_, i) => S.lines[i % S.lines.length]);
    await writeRequestFile(big, S.header({ fileId: 'FIN-BIG' }), many);
  });

  it('none when stderr is not a terminal (a log stays JSON lines only)', async () => {
    const r = await inst.cli(['process', big, '-o', join(inst.dir, 'big-1.xml'), '--as-of', S.AS_OF]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  const SCRIPT = '/usr/bin/script';
  it.skipIf(!existsSync(SCRIPT))(`on a terminal: a bar with total, percentage, rate and ETA${existsSync(SCRIPT) ? '' : ' (skipped: no /usr/bin/script to make a terminal; Debian package bsdutils)'}`, async () => {
    const cmd = [process.execPath, BIN, 'process', big, '-o', join(inst.dir, 'big-2.xml'), '--as-of', S.AS_OF, '--config', inst.config].map((a) => `'${a}'`).join(' ');
    const r = await run(SCRIPT, ['-qfec', cmd, '/dev/null']);
    expect(r.code, r.stdout).toBe(0);
    const frames = r.stdout.split(/\r|\x1b\[1G/);
    expect(frames.some((f) => /^answering \[.*\] 100% \| 12,000\/12,000 lines \| [\d,]+ lines\/s \| ETA \d+s/.test(f)), r.stdout.slice(-400)).toBe(true);
  });

  it('counts lines of a request file like a plain count does, across 1 MiB read chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldm-count-'));
    try {
      // Elements cut at every offset around the chunk boundary; prefixed names; <Requests> not counted.
      let text = '<Requests>';
      let expected = 0;
      while (text.length < 3 * (1 << 20)) {
        const r = text.length % 7;
        text += r === 0 ? '<ldm:Request seq="1">' : r === 1 ? '<Request>' : r === 2 ? '<Requests>' : r === 3 ? 'x<Request\n seq="2"/>' : 'yy';
        if (r <= 1 || r === 3) expected++;
      }
      const f = join(dir, 'r.xml');
      writeFileSync(f, text);
      // An independent count: a regular expression over the whole text.
      const plain = (readFileSync(f, 'utf8').match(/<(?:[A-Za-z]+:)?Request[\s>/]/g) ?? []).length;
      expect(plain).toBe(expected);
      expect(await requestLineCount(f)).toBe(expected);
      writeFileSync(f, 'a\nb\n'.repeat(700_000));
      expect(await countInFile(f, '\n')).toBe(1_400_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
