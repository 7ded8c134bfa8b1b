// The audit sink's grouping of a write's lines by SSIN (record.ts groupBySsin) against a plain
// comparator sort: by SSIN, and in line order within one SSIN (the blob keeps seq order).
import { describe, expect, it } from 'vitest';
import { groupBySsin } from '../../src/audit/record.js';
import { rng } from '../../src/generate/dataset.js';

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
});
