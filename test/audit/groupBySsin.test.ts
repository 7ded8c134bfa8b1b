// The audit sink's grouping of a write's lines by SSIN (record.ts groupBySsin, a radix sort) against a
// plain comparator sort: by SSIN, and in line order within one SSIN (the blob keeps seq order). And
// its in-place entry writer (packed.ts writeLine) against packLine, byte for byte.
import { describe, expect, it } from 'vitest';
import { groupBySsin } from '../../src/audit/record.js';
import { rng } from '../../src/generate/dataset.js';
import { MAX_LINE_BYTES, STATUS_CODES, packLine, writeLine } from '../../src/audit/packed.js';

function expected(ssin: Float64Array, n: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  return idx.sort((x, y) => (ssin[x] < ssin[y] ? -1 : ssin[x] > ssin[y] ? 1 : x - y));
}

describe('groupBySsin', () => {
  it.each([
    ['empty', []],
    ['one', [85073003328]],
    ['all equal', [5, 5, 5, 5]],
    ['descending', [99999999999, 50000000000, 1, 0]],
    ['repeats apart', [3, 1, 3, 2, 1, 3]],
    ['each 13-bit digit decides', [2 ** 26, 2 ** 13, 1, 2 ** 26 + 1, 2 ** 13 + 1, 0, 2 ** 38, 99999999999]],
  ])('%s', (_, values) => {
    const a = Float64Array.from(values);
    expect([...groupBySsin(a, a.length)]).toEqual(expected(a, a.length));
  });

  it('random writes, few and many distinct SSINs, only the first n lines', () => {
    const r = rng(7);
    for (const [size, distinct] of [[1000, 3], [5000, 800], [65536, 20000]]) {
      const pool = Array.from({ length: distinct }, () => Math.floor(r() * 99_999_999_999));
      const a = new Float64Array(size + 10).fill(1); // past n: ignored
      for (let i = 0; i < size; i++) a[i] = pool[Math.floor(r() * distinct)];
      expect([...groupBySsin(a, size)]).toEqual(expected(a, size));
    }
  });

  it('refuses what is not an SSIN number (a radix sort would misplace it)', () => {
    for (const bad of [-1, 1.5, 2 ** 39, NaN]) expect(() => groupBySsin(Float64Array.from([1, bad]), 2)).toThrow(RangeError);
  });
});

describe('writeLine', () => {
  it('writes the bytes packLine appends', () => {
    const seqs = [0, 1, 127, 128, 16383, 16384, 1_000_000, 2 ** 31, Number.MAX_SAFE_INTEGER];
    const qualities = [null, 0, 1, 126, 127, 128, 0x7fffffff];
    for (const seq of seqs)
      for (const q of qualities)
        STATUS_CODES.forEach((code, status) => {
          const want: number[] = [];
          packLine(want, seq, q, code);
          const out = new Uint8Array(MAX_LINE_BYTES + 3);
          const end = writeLine(out, 2, seq, status, q === null ? 0 : q + 1);
          expect([...out.subarray(2, end)]).toEqual(want);
        });
  });
});
