// The transient-fault table and the retry schedule (pure), each against a small independent oracle.
import { describe, expect, it } from 'vitest';
import { classifyFault } from '../../src/pipeline/faults.js';
import { DEFAULT_RETRY, mayRetry, retryDelaySeconds } from '../../src/pipeline/retryPolicy.js';
import { LdmError } from '../../src/errors.js';

const errno = (code: string): Error => Object.assign(new Error(`${code}: boom`), { code });

describe('classifyFault', () => {
  const cases: [string, unknown, string, string | undefined][] = [
    ['read-only spool', errno('EROFS'), 'EROFS', 'spool-io'],
    ['I/O error', errno('EIO'), 'EIO', 'spool-io'],
    ['disk full', errno('ENOSPC'), 'ENOSPC', 'disk-full'],
    ['quota', errno('EDQUOT'), 'EDQUOT', 'disk-full'],
    ['SQLite busy', errno('SQLITE_BUSY'), 'SQLITE_BUSY', 'database'],
    ['SQLite locked', errno('SQLITE_LOCKED'), 'SQLITE_LOCKED', 'database'],
    ['SQLite full', errno('SQLITE_FULL'), 'SQLITE_FULL', 'disk-full'],
    ['PostgreSQL down', errno('ECONNREFUSED'), 'ECONNREFUSED', 'network'],
    ['PostgreSQL shutting down', errno('57P01'), 'PG_57P01', 'database'],
    ['PostgreSQL disk full', errno('53100'), 'PG_53100', 'disk-full'],
    ['PostgreSQL connection', errno('08006'), 'PG_08006', 'database'],
    ['pool timeout', Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' }), 'DB_TIMEOUT', 'database'],
    ['connection lost', new Error('Connection terminated unexpectedly'), 'DB_CONNECTION_LOST', 'database'],
    ['SFTP down', new LdmError('SFTP_UNREACHABLE', 'x'), 'SFTP_UNREACHABLE', 'spool-down'],
    ['SFTP server failure', Object.assign(new Error('Failure'), { code: 4 }), 'SFTP_STATUS_4', 'spool-down'],
    ['wrapped errno', new LdmError('SPOOL', 'x', { cause: errno('ENOSPC') }), 'ENOSPC', 'disk-full'],
    ['a bug', new TypeError('x is undefined'), 'INTERNAL', undefined],
    ['a missing file', errno('ENOENT'), 'ENOENT', undefined],
    ['a constraint', errno('SQLITE_CONSTRAINT'), 'SQLITE_CONSTRAINT', undefined],
    ['host key', new LdmError('HOST_KEY_MISMATCH', 'x'), 'HOST_KEY_MISMATCH', undefined],
  ];
  it.each(cases)('%s', (_, err, code, transient) => {
    const f = classifyFault(err);
    expect(f.code).toBe(code);
    expect(f.transient).toBe(transient);
  });
});

describe('retry schedule', () => {
  // The oracle: plain loop doubling from the first delay, capped.
  function oracle(first: number, cap: number, attempt: number): number {
    let d = first;
    for (let i = 1; i < attempt; i++) d = d * 2;
    return d > cap ? cap : d;
  }
  it('doubles from the first delay up to the cap', () => {
    for (const p of [DEFAULT_RETRY, { ...DEFAULT_RETRY, firstDelaySeconds: 0.2, maxDelaySeconds: 1 }, { ...DEFAULT_RETRY, firstDelaySeconds: 7, maxDelaySeconds: 7 }]) {
      for (let a = 1; a <= 12; a++) expect(retryDelaySeconds(p, a), `attempt ${a}`).toBe(oracle(p.firstDelaySeconds, p.maxDelaySeconds, a));
    }
  });
  it('allows another attempt only below the limit and inside the window', () => {
    const p = { ...DEFAULT_RETRY, maxAttempts: 3, maxSeconds: 100 };
    for (let a = 0; a <= 5; a++) for (const age of [0, 99.9, 100, 500]) expect(mayRetry(p, a, age), `${a} attempts, ${age} s`).toBe(a < 3 && age < 100);
  });
  it('defaults: 8 attempts over about an hour', () => {
    let total = 0;
    for (let a = 1; a < DEFAULT_RETRY.maxAttempts; a++) total += retryDelaySeconds(DEFAULT_RETRY, a);
    expect(DEFAULT_RETRY.maxAttempts).toBe(8);
    expect(total).toBe(30 + 60 + 120 + 240 + 480 + 960 + 1800);
  });
});
