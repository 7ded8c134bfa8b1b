// A large generated response: written, then verified by the streaming verifier (and xmlsec1).
// Timings are printed, not asserted (machines differ).

import { statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ResponseLine } from '../../src/interfaces.js';
import { verifyResponse } from '../../src/response/verify.js';
import { removeTestKeys, testKeys, type TestKeys } from '../helpers/keys.js';
import { HAVE_XMLSEC1, NO_XMLSEC1, writeFile, xmlsec1Verify } from './fixtures.js';

const N = 200_000;
let dir: string;
let keys: TestKeys;
const path = (): string => join(dir, 'large.response.xml');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ldm-large-'));
  keys = await testKeys();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTestKeys();
});

/** Lines made on the fly (never held as an array): a mix of yearly, monthly and no-data answers. */
function* generatedLines(n: number): Generator<ResponseLine> {
  for (let seq = 1; seq <= n; seq++) {
    const ssin = String(85073003328 + seq).padStart(11, '0');
    const k = seq % 5;
    if (k === 0) {
      yield { seq, ticket: `ref-${seq}`, ssin, status: 'MSG00100' };
    } else if (k === 1 || k === 2) {
      yield {
        seq,
        ticket: `ref-${seq}`,
        ssin,
        status: 'MSG00000',
        year: {
          year: 2025,
          totals: [
            { ocmw: '0212345678', benefitType: 'LEEFLOON', category: 'ISOLATED', amountCents: 100_000 + seq, months: 12, fullYear: true, provisional: false },
            ...(k === 2
              ? [{ ocmw: '0212345679', benefitType: 'EQUIVALENT_LEEFLOON' as const, category: 'FAMILY' as const, amountCents: seq, months: 3, fullYear: false, provisional: true, partnerSsin: '90010100123' }]
              : []),
          ],
        },
      };
    } else {
      yield {
        seq,
        ssin,
        status: 'MSG00000',
        months: {
          lastMonthIsLastPaid: k === 3,
          entries: ['2025-01', '2025-02', '2025-03'].map((month) => ({
            month,
            ocmw: '0212345678',
            benefitType: 'LEEFLOON' as const,
            category: 'COHABITANT' as const,
            amountCents: 98_765,
            from: `${month}-01`,
            to: `${month}-28`,
            fullMonth: false,
            provisional: false,
          })),
        },
      };
    }
  }
}

it(`writes and verifies a ${N.toLocaleString('en')}-line response`, async () => {
  const t0 = performance.now();
  const r = await writeFile(path(), generatedLines(N), keys.signer);
  const t1 = performance.now();
  const v = await verifyResponse(path(), { trustedCertPem: keys.signer.certificatePem });
  const t2 = performance.now();
  const mb = statSync(path()).size / 1e6;
  console.log(
    `[response] ${N} lines, ${mb.toFixed(1)} MB: write ${(t1 - t0).toFixed(0)} ms, verifyResponse ${(t2 - t1).toFixed(0)} ms`,
  );
  expect(r.recordCount).toBe(N);
  expect(r.statusCounts).toEqual({ MSG00000: (N * 4) / 5, MSG00100: N / 5 });
  expect(v).toMatchObject({ ok: true, fileId: 'FIN-2026-000001', recordCount: N });
});

it.skipIf(!HAVE_XMLSEC1)(`xmlsec1 accepts the large response too${HAVE_XMLSEC1 ? '' : ` (skipped: ${NO_XMLSEC1})`}`, async () => {
  const t0 = performance.now();
  const x = await xmlsec1Verify(path(), keys.certPath);
  console.log(`[response] xmlsec1 --verify of the ${N}-line file: ${(performance.now() - t0).toFixed(0)} ms`);
  expect(x.code).toBe(0);
});
