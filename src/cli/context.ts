// What every command that touches the store needs: the config, an open database with config
// clients synced into it, and the signer.
import { join, dirname } from 'node:path';
import { loadConfig, type Config } from '../config/config.js';
import { openDatabase, databaseSpec, type Db } from '../store/db.js';
import { loadClients, upsertClients } from '../store/clients.js';
import type { Client, Signer } from '../interfaces.js';
import { loadSigner } from '../response/sign.js';
import { applyFileMode, restrictFile } from '../files/modes.js';
import { ReadModels } from '../readmodel/registry.js';
import { LdmError } from '../errors.js';
import { notInFuture } from './output.js';

export interface AppContext {
  config: Config;
  db: Db;
  clients: Client[];
  workDir: string;
  /** The read models of the store (data/readmodel beside the config; see src/readmodel). */
  readModels: ReadModels;
  signer(): Promise<Signer>;
  close(): Promise<void>;
}

export async function openApp(configFile?: string): Promise<AppContext> {
  const config = loadConfig(configFile);
  applyFileMode(config.fileMode);
  const spec = databaseSpec(config);
  const db = await openDatabase(spec);
  // A database made by an older version (or before the umask was set) is narrowed too.
  if (spec.client === 'sqlite' && spec.filename) for (const f of [spec.filename, `${spec.filename}-wal`, `${spec.filename}-shm`]) restrictFile(f);
  if (config.clients.length > 0) await upsertClients(db, config.clients);
  const clients = await loadClients(db);
  let signer: Signer | undefined;
  const inMemory = amountsInMemoryBytes();
  const readModels = new ReadModels(join(dirname(config.file ?? '.'), 'data', 'readmodel'), { amountsInMemoryBytes: inMemory, repertoryInMemoryBytes: inMemory });
  return {
    config,
    db,
    clients,
    workDir: join(dirname(config.file ?? '.'), 'data', 'work'),
    readModels,
    async signer() {
      signer ??= await loadSigner(config.signing.keyFile, config.signing.certFile);
      return signer;
    },
    close: async () => {
      readModels.close();
      await db.destroy();
    },
  };
}

/**
 * Opens the application for a command that takes `--as-of`: the date is checked against the
 * configured time zone (not in the future), and the application is closed again when it is refused.
 */
export async function openAppAsOf(configFile: string | undefined, asOfOption: string | undefined): Promise<{ app: AppContext; asOf: string | undefined }> {
  const app = await openApp(configFile);
  try {
    return { app, asOf: notInFuture(asOfOption, app.config.timezone) };
  } catch (err) {
    await app.close();
    throw err;
  }
}

/**
 * LDM_BATCH_READMODEL_MEMORY_MB: the read model's amount records, and its repertory, are each held
 * in memory up to this size (default 32, DEFAULT_AMOUNTS_IN_MEMORY_BYTES and
 * DEFAULT_REPERTORY_IN_MEMORY_BYTES), else read from disk on demand (see readmodel/model.ts); 0
 * keeps them on disk.
 */
function amountsInMemoryBytes(): number | undefined {
  const v = process.env.LDM_BATCH_READMODEL_MEMORY_MB;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new LdmError('CONFIG', `LDM_BATCH_READMODEL_MEMORY_MB must be a number of megabytes ≥ 0, got "${v}"`, { exitCode: 2 });
  return n * 1024 * 1024;
}
