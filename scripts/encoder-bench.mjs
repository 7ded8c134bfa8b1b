#!/usr/bin/env node
// node scripts/encoder-bench.mjs (after `npm run build`): the amounts answer encoder in isolation,
// the measurement behind README "Benchmark", session of 2026-12-01. Not a test and not part of
// `npm run bench` (which times the whole pipeline): it isolates what the pipeline's figures mix.
//   1. byte runs of 8–31 bytes written byte by byte, with TypedArray#set, and a 32-bit word at a
//      time through a DataView (what LineEncoder.put does);
//   2. 300,000 synthetic amounts answers (half yearly, half monthly; generated rows, one shared
//      string table as the read model has) encoded from the rules' columns (yearGroups /
//      monthGroups + yearAnswer / monthsAnswer, the resolver's path) and from objects (yearOf /
//      monthsOf + responseLine, every other caller's), after checking both give the same bytes.
// Best of 7 rounds each, interleaved, so a busy machine slows both alike.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const agg = await import(join(dist, 'domain', 'aggregate.js'));
const lb = await import(join(dist, 'response', 'lineBytes.js'));

function best(rounds, fns) {
  const t = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((f, i) => {
      const t0 = performance.now();
      f();
      t[i] = Math.min(t[i], performance.now() - t0);
    });
  }
  return t;
}

// ---------------------------------------------------------------- 1. byte runs
{
  const buf = Buffer.allocUnsafeSlow(1 << 21);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const runs = Array.from({ length: 64 }, (_, i) => new Uint8Array(8 + ((i * 7) % 24)).fill(65 + (i % 26)));
  const words = runs.map((r) => {
    const w = new Int32Array(Math.ceil(r.length / 4));
    const padded = new Uint8Array(w.length * 4);
    padded.set(r);
    const v = new DataView(padded.buffer);
    for (let i = 0; i < w.length; i++) w[i] = v.getInt32(4 * i, true);
    return w;
  });
  const N = 2_000_000;
  const byByte = () => {
    let u = 0;
    for (let k = 0; k < N; k++) {
      const r = runs[k & 63];
      if (u > 1e6) u = 0;
      for (let i = 0; i < r.length; i++) buf[u++] = r[i];
    }
  };
  const bySet = () => {
    let u = 0;
    for (let k = 0; k < N; k++) {
      const r = runs[k & 63];
      if (u > 1e6) u = 0;
      buf.set(r, u);
      u += r.length;
    }
  };
  const byWords = () => {
    let u = 0;
    for (let k = 0; k < N; k++) {
      const r = runs[k & 63];
      const w = words[k & 63];
      if (u > 1e6) u = 0;
      let p = u;
      for (let i = 0; i < w.length; i++) {
        view.setInt32(p, w[i], true);
        p += 4;
      }
      u += r.length;
    }
  };
  const mean = runs.reduce((a, r) => a + r.length, 0) / runs.length;
  const [a, b, c] = best(7, [byByte, bySet, byWords]);
  const ns = (ms) => `${((ms * 1e6) / N).toFixed(1)} ns a run`;
  console.log(`byte runs (mean ${mean.toFixed(1)} bytes): byte by byte ${ns(a)}, TypedArray#set ${ns(b)}, 32-bit words ${ns(c)}`);
}

// ---------------------------------------------------------------- 2. answers
{
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const persons = Array.from({ length: 2000 }, () =>
    Array.from({ length: 6 + Math.floor(rnd() * 10) }, () => {
      const mm = String(1 + Math.floor(rnd() * 12)).padStart(2, '0');
      return {
        ssin: '85073003328',
        partnerSsin: rnd() < 0.3 ? '90010100123' : null,
        ocmwCbe: `0212344${100 + Math.floor(rnd() * 5)}`,
        benefitType: 'LEEFLOON',
        category: rnd() < 0.5 ? 'ISOLATED' : 'COHABITANT',
        month: `2025-${mm}`,
        grantFrom: `2025-${mm}-01`,
        grantTo: `2025-${mm}-${rnd() < 0.8 ? '28' : '15'}`,
        amountCents: 100_000 + Math.floor(rnd() * 50_000),
        paidOn: `2025-${mm}-05`,
        status: rnd() < 0.1 ? 'PROVISIONAL' : 'DEFINITIVE',
      };
    }),
  );
  // One string table for all, as the read model's.
  const S = agg.packAmountRows(persons.flat(), 'BENEFICIARY').strings;
  const index = new Map(S.map((s, i) => [s, i]));
  const cols = persons.map((rows) => {
    const c = agg.packAmountRows(rows, 'BENEFICIARY');
    const m = (a) => Uint16Array.from(a, (i) => index.get(c.strings[i]));
    return { ...c, strings: S, ocmw: m(c.ocmw), benefitType: m(c.benefitType), category: m(c.category), month: m(c.month), grantFrom: m(c.grantFrom), grantTo: m(c.grantTo), paidOn: m(c.paidOn), status: m(c.status) };
  });
  const REF = '2026-03-15';
  const LINES = 300_000;
  const groups = agg.answerGroups();
  const fromColumns = (enc) => () => {
    for (let i = 0; i < LINES; i++) {
      if ((i & 511) === 0) enc.clear();
      const c = cols[i % cols.length];
      enc.responseStart(i + 1, `T${i & 1023}`, '85073003328', 'MSG00000', undefined);
      if (i & 1) {
        agg.yearGroups(c, 'BENEFICIARY', 2025, REF, groups);
        enc.yearAnswer(2025, groups, S, false, lb.ALL_AMOUNT_ATTRS);
      } else {
        agg.monthGroups(c, 'BENEFICIARY', '2025-01', '2025-12', REF, groups);
        enc.monthsAnswer(groups, S, false, lb.ALL_AMOUNT_ATTRS);
      }
      enc.responseEnd();
    }
  };
  const fromObjects = (enc) => () => {
    for (let i = 0; i < LINES; i++) {
      if ((i & 511) === 0) enc.clear();
      const c = cols[i % cols.length];
      const line = { seq: i + 1, ticket: `T${i & 1023}`, ssin: '85073003328', status: 'MSG00000' };
      if (i & 1) line.year = { year: 2025, totals: agg.yearOf(c, 'BENEFICIARY', 2025, REF) };
      else line.months = agg.monthsOf(c, 'BENEFICIARY', '2025-01', '2025-12', REF);
      enc.responseLine(line, () => '');
    }
  };
  const a = new lb.EncodedLines();
  const b = new lb.EncodedLines();
  fromColumns(a)();
  fromObjects(b)();
  if (Buffer.compare(a.bytes(), b.bytes()) !== 0) throw new Error('the two encodings differ');
  const rulesOnly = () => {
    for (let i = 0; i < LINES; i++) {
      const c = cols[i % cols.length];
      if (i & 1) agg.yearGroups(c, 'BENEFICIARY', 2025, REF, groups);
      else agg.monthGroups(c, 'BENEFICIARY', '2025-01', '2025-12', REF, groups);
    }
  };
  const [tc, to, tr] = best(7, [fromColumns(a), fromObjects(b), rulesOnly]);
  const us = (ms) => `${((ms * 1000) / LINES).toFixed(2)} µs a line`;
  console.log(`answers (${(a.bytes().length / a.length).toFixed(0)} bytes a line, same bytes both ways): from columns ${us(tc)}, from objects ${us(to)}; the rules alone ${us(tr)}`);
}
