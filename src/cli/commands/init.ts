import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CONFIG_NAME, defaultConfigJson, loadConfig } from '../../config/config.js';
import { openDatabase, databaseSpec } from '../../store/db.js';
import { generateDevSigner } from '../../response/devkeys.js';
import { importCsv } from '../../import/importCsv.js';
import { packagePath } from '../../config/packagePath.js';
import { LdmError } from '../../errors.js';
import { print } from '../output.js';

export interface InitResult {
  dir: string;
  configFile: string;
}

/** Creates a working instance folder: config, development key, spool root, database with the OCMW list. */
export async function initInstance(dir: string, opts: { force?: boolean; quiet?: boolean; database?: string } = {}): Promise<InitResult> {
  const root = resolve(dir);
  const configFile = join(root, CONFIG_NAME);
  if (existsSync(configFile) && !opts.force) {
    throw new LdmError('INIT_EXISTS', `${configFile} exists already; use --force to overwrite it (the database and spool are kept)`, { exitCode: 2 });
  }
  await mkdir(root, { recursive: true });
  const json = defaultConfigJson();
  // --force rewrites the config but keeps the store it names (a PostgreSQL URL included), so the
  // OCMW list goes where the instance reads it, not into a new SQLite file beside it.
  const kept = opts.database ?? (existsSync(configFile) ? await databaseOf(configFile) : undefined);
  if (kept) json.database = kept;
  await writeFile(configFile, JSON.stringify(json, null, 2) + '\n');
  const config = loadConfig(configFile);
  await mkdir(join(root, 'keys'), { recursive: true, mode: 0o700 });
  const keys = await generateDevSigner(join(root, 'keys'));
  await mkdir(config.spool.root, { recursive: true });
  const db = await openDatabase(databaseSpec(config));
  try {
    // The same import on both engines; on a store that has the list, it adds or updates names.
    const ocmws = await importCsv(db, 'ocmws', packagePath('fixtures', 'reference', 'ocmws.csv'));
    if (!opts.quiet) {
      print(`config      ${configFile}`);
      print(`signing key ${keys.keyPath} (development key — replace it in production)`);
      print(`certificate ${keys.certPath}`);
      print(`spool root  ${config.spool.root}`);
      print(`database    ${config.database} (${ocmws.rows} OCMWs loaded)`);
      const cfg = JSON.stringify(configFile);
      print('');
      print('next steps:');
      print(`  1. declare your clients:      ldm-batch import clients clients.csv --config ${cfg}`);
      print(`  2. load the data:             ldm-batch import persons|repertory|amounts|rights <file.csv> --config ${cfg}`);
      print(`  3. in production, replace the development key and certificate in ${join(root, 'keys')} (docs/operations/runbook.md)`);
      print(`  4. check everything:          ldm-batch check --config ${cfg}`);
      print(`  5. try one poll, then run:    ldm-batch run-once --config ${cfg}   /   ldm-batch daemon --config ${cfg}`);
      print('  (or see it all work at once: ldm-batch demo)');
    }
  } finally {
    await db.destroy();
  }
  return { dir: root, configFile };
}

/** The `database` of an existing config file; undefined when it has none or cannot be read. */
async function databaseOf(configFile: string): Promise<string | undefined> {
  try {
    const raw = JSON.parse(await readFile(configFile, 'utf8')) as { database?: unknown };
    return typeof raw.database === 'string' && raw.database !== '' ? raw.database : undefined;
  } catch {
    return undefined;
  }
}

export async function runInit(dir: string, o: { force?: boolean; database?: string }): Promise<void> {
  await initInstance(dir, o);
}
