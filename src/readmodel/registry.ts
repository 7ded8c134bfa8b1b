// The read models of one instance: which file answers a batch, building it when missing, and
// keeping the opened ones while batches read them.
//
// A batch reads the store version recorded at its claim (contract §5). Its file is used when
// present and sound; when it is missing or corrupt and that version is still the store's current
// one, it is built again from the store. When the store has moved on since the claim and the
// file is gone (removed by hand: pruning keeps every version an unfinished batch recorded), that
// state cannot be rebuilt: the batch is answered from the current version and a warning says so.
import { existsSync, rmSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { storeVersion } from '../store/storeVersion.js';
import { LdmError } from '../errors.js';
import { createLogger, type Logger } from '../log/logger.js';
import { buildReadModel, type BuildResult } from './build.js';
import { readModelFile, pruneReadModels } from './files.js';
import { ReadModel, type OpenOptions } from './model.js';

export interface Lease {
  model: ReadModel;
  /** The version recorded for the batch, when another one had to answer it. */
  substitutedFor?: number;
  release(): void;
}

export class ReadModels {
  private readonly open = new Map<number, { model: ReadModel; users: number }>();
  private building: Promise<BuildResult> | undefined;
  private readonly listeners: ((version: number, builtAtMs: number) => void)[] = [];

  private readonly log: Logger;

  constructor(
    readonly dir: string,
    private readonly opts: OpenOptions & { logger?: Logger } = {},
  ) {
    this.log = opts.logger ?? createLogger();
  }

  /** The read model of `version` (undefined or null: the store's current one), opened for one batch. */
  async acquire(db: Db, version: number | null | undefined): Promise<Lease> {
    const current = await storeVersion(db);
    let wanted = version ?? current;
    let substitutedFor: number | undefined;
    let entry = this.open.get(wanted);
    if (entry === undefined) {
      const path = readModelFile(this.dir, wanted);
      let model = existsSync(path) ? this.tryOpen(path) : undefined;
      if (model === undefined) {
        if (wanted !== current) {
          this.log.warn('read_model_version_gone', { wanted, current, message: `the read model of store version ${wanted} is gone and that state cannot be rebuilt; the batch reads version ${current}` });
          substitutedFor = wanted;
          wanted = current;
        }
        entry = this.open.get(wanted);
        if (entry === undefined) {
          const built = await this.build(db);
          wanted = built.storeVersion; // an import may have landed meanwhile: use what was built
          await this.prune(db).catch((err: unknown) => this.log.warn('read_model_prune_failed', { message: err instanceof Error ? err.message : String(err) }));
          entry = this.open.get(wanted);
          if (entry === undefined) {
            model = this.tryOpen(built.path);
            if (model === undefined) throw new LdmError('READ_MODEL_CORRUPT', `the read model just built at ${built.path} cannot be read back`);
          }
        }
      }
      if (entry === undefined && model !== undefined) {
        entry = { model, users: 0 };
        this.open.set(model.storeVersion, entry);
      }
    }
    if (entry === undefined) throw new Error('unreachable: a read model entry is always found or opened');
    const held = entry;
    held.users++;
    for (const l of this.listeners) l(held.model.storeVersion, Date.parse(held.model.header.builtAt));
    let released = false;
    return {
      model: held.model,
      substitutedFor,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        this.evict();
      },
    };
  }

  /** Called with the version and build time of every read model a batch reads (for metrics). */
  onRead(listener: (version: number, builtAtMs: number) => void): void {
    this.listeners.push(listener);
  }

  /** Builds the read model of the store's current version (one build at a time per process). */
  async build(db: Db, force = false): Promise<BuildResult> {
    while (this.building) await this.building.catch(() => undefined);
    const p = buildReadModel(db, this.dir, { force });
    this.building = p;
    try {
      return await p;
    } finally {
      this.building = undefined;
    }
  }

  /** Removes files no unfinished batch needs (see pruneReadModels). */
  async prune(db: Db): Promise<number[]> {
    const rows = (await db('batches').where({ state: 'CLAIMED' }).whereNotNull('store_version').distinct('store_version')) as { store_version: number | string }[];
    const keep = new Set(rows.map((r) => Number(r.store_version)));
    for (const v of this.open.keys()) keep.add(v);
    return pruneReadModels(this.dir, keep);
  }

  close(): void {
    for (const e of this.open.values()) e.model.close();
    this.open.clear();
  }

  private tryOpen(path: string): ReadModel | undefined {
    try {
      return ReadModel.open(path, this.opts);
    } catch (err) {
      if (!(err instanceof LdmError) || (err.code !== 'READ_MODEL_CORRUPT' && err.code !== 'READ_MODEL_OUTDATED')) throw err;
      // After an upgrade that changed the format this is expected, once per file: not a warning.
      if (err.code === 'READ_MODEL_OUTDATED') this.log.info('read_model_outdated', { path, message: err.message });
      else this.log.warn('read_model_corrupt', { path, message: err.message });
      rmSync(path, { force: true });
      return undefined;
    }
  }

  /** Closes models no batch reads, except the newest. */
  private evict(): void {
    const newest = Math.max(...this.open.keys());
    for (const [v, e] of this.open) {
      if (v !== newest && e.users === 0) {
        e.model.close();
        this.open.delete(v);
      }
    }
  }
}
