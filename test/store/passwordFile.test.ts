// The PostgreSQL password never sits in the config: databasePasswordFile names a 0600 file whose
// first line is the password (else pg reads PGPASSWORD). The test cluster trusts 127.0.0.1, so it
// never asks for a password; the file's rules are checked here on their own.
import { describe, expect, it } from 'vitest';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseSpec, readPasswordFile } from '../../src/store/db.js';

describe('databasePasswordFile', () => {
  it('is read at connect time (first line), and refused when group or others may read it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldm-pw-'));
    try {
      const f = join(dir, 'pw');
      await writeFile(f, 's3cret\nignored\n', { mode: 0o600 });
      await chmod(f, 0o600);
      expect(await readPasswordFile(f)).toBe('s3cret');
      await chmod(f, 0o640);
      await expect(readPasswordFile(f)).rejects.toMatchObject({ code: 'KEY_PERMISSIONS', exitCode: 2 });
      await expect(readPasswordFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'DB_PASSWORD_FILE' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('applies to PostgreSQL only', () => {
    expect(databaseSpec({ database: 'postgres://ldm@db/ldm', databasePasswordFile: '/etc/ldm/pw' })).toEqual({ client: 'postgres', url: 'postgres://ldm@db/ldm', passwordFile: '/etc/ldm/pw' });
    expect(databaseSpec({ database: '/x.sqlite', databasePasswordFile: '/etc/ldm/pw' })).toEqual({ client: 'sqlite', filename: '/x.sqlite' });
  });
});
