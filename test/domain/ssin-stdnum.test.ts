// Differential test of the SSIN check (contract §3) against python-stdnum's be.nn, an
// independent implementation (Debian package python3-stdnum, installed by scripts/test-setup.sh):
// 200,000 seeded random candidates, biased so that about half carry check digits of one of the
// two variants. be.nn judges the check digits only, with the 2000+ variant for a birth year
// 2000 + YY not after today's year, so ours is asked with today's year as the reference year.
// It does not look at the month/day fields (ours refuses month 13..19, 33..39, 53+ and day 32+):
// on candidates with plausible fields the two must agree exactly, and on all candidates ours
// may only be stricter.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isValidSsin } from '../../src/domain/ssin.js';
import { mulberry32 } from '../principles/oracle.js'; // a seeded PRNG for test data, not rule logic

const PYTHONS = ['/usr/bin/python3', 'python3'];

function findPython(): string | undefined {
  for (const py of PYTHONS) {
    try {
      execFileSync(py, ['-c', 'import stdnum.be.nn'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const python = findPython();
const SKIP = 'python-stdnum is not installed (Debian package python3-stdnum; scripts/test-setup.sh installs it)';

function candidates(n: number, seed: number): string[] {
  const r = mulberry32(seed);
  const d = (k: number): string => String(Math.floor(r() * 10 ** k)).padStart(k, '0');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const plausible = r() < 0.8;
    const mm = plausible ? [0, 20, 40][Math.floor(r() * 3)] + Math.floor(r() * 13) : Math.floor(r() * 100);
    const dd = plausible ? Math.floor(r() * 32) : Math.floor(r() * 100);
    const first9 = `${d(2)}${String(mm).padStart(2, '0')}${String(dd).padStart(2, '0')}${d(3)}`;
    const x = r();
    const body = BigInt(first9) + (x < 0.3 ? 0n : 2_000_000_000n);
    const check = x < 0.6 ? String(97n - (body % 97n)).padStart(2, '0') : d(2);
    out.push(first9 + check);
  }
  return out;
}

describe.skipIf(!python)(python ? 'SSIN check vs python-stdnum be.nn' : `SSIN check vs python-stdnum be.nn — SKIPPED: ${SKIP}`, () => {
  it('agrees on 200,000 random candidates (ours is stricter only on impossible month/day fields)', () => {
    const list = candidates(200_000, 20261129);
    const script = 'import sys, datetime, stdnum.be.nn as nn\nprint(datetime.date.today().year)\nfor l in sys.stdin:\n    print(1 if nn.is_valid(l.strip()) else 0)\n';
    const outLines = execFileSync(python as string, ['-c', script], { input: list.join('\n') + '\n', maxBuffer: 64 << 20 }).toString().trim().split('\n');
    const year = Number(outLines[0]);
    const theirs = outLines.slice(1).map((v) => v === '1');
    expect(theirs).toHaveLength(list.length);
    const plausible = (s: string): boolean => {
      const mm = Number(s.slice(2, 4));
      return (mm <= 12 || (mm >= 20 && mm <= 32) || (mm >= 40 && mm <= 52)) && Number(s.slice(4, 6)) <= 31;
    };
    let disagree = 0;
    let looser = 0;
    let agreedValid = 0;
    let compared = 0;
    const examples: string[] = [];
    list.forEach((s, i) => {
      const ours = isValidSsin(s, year);
      if (ours && !theirs[i]) looser++;
      if (!plausible(s)) return;
      compared++;
      if (ours !== theirs[i]) {
        disagree++;
        if (examples.length < 5) examples.push(`${s}: ours ${ours}, stdnum ${theirs[i]}`);
      }
      if (ours && theirs[i]) agreedValid++;
    });
    console.log(`ssin vs stdnum: ${list.length} candidates, ${compared} with plausible fields, ${agreedValid} valid for both, ${disagree} disagreements, ${looser} accepted by ours only`);
    expect(examples).toEqual([]);
    expect(disagree).toBe(0);
    expect(looser).toBe(0);
    expect(agreedValid).toBeGreaterThan(50_000);
  });
});
