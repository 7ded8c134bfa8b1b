// `ldm-batch snapshot rebuild|show`: the read model of the store (src/readmodel). It is built after
// every import and when a batch needs a version that is missing; `rebuild` builds it on demand
// (e.g. after a restore of the store, or to time it), `show` lists what is on disk.
import { statSync } from 'node:fs';
import { openApp, type AppContext } from '../context.js';
import { print, printJson } from '../output.js';
import { readModelFile, readModelVersions } from '../../readmodel/files.js';
import { storeVersion } from '../../store/storeVersion.js';
import type { BuildResult } from '../../readmodel/build.js';

export async function runSnapshotRebuild(o: { json?: boolean; config?: string }): Promise<void> {
  const app = await openApp(o.config);
  try {
    const built = await app.readModels.build(app.db, true);
    const removed = await app.readModels.prune(app.db);
    if (o.json) printJson({ ok: true, ...describe(built), removed });
    else print(`${summary(built)}${removed.length > 0 ? `; removed versions ${removed.join(', ')}` : ''}`);
  } finally {
    await app.close();
  }
}

export async function runSnapshotShow(o: { json?: boolean; config?: string }): Promise<void> {
  const app = await openApp(o.config);
  try {
    const current = await storeVersion(app.db);
    const files = readModelVersions(app.readModels.dir).map((v) => {
      const path = readModelFile(app.readModels.dir, v);
      const st = statSync(path);
      return { version: v, path, bytes: st.size, builtAt: st.mtime.toISOString() };
    });
    if (o.json) printJson({ storeVersion: current, dir: app.readModels.dir, files });
    else {
      print(`store version ${current}; read models in ${app.readModels.dir}:`);
      if (files.length === 0) print('  none (the next batch or `ldm-batch snapshot rebuild` builds one)');
      for (const f of files) print(`  v${f.version}  ${(f.bytes / 1e6).toFixed(1)} MB  built ${f.builtAt}${f.version === current ? '  (current)' : ''}`);
    }
  } finally {
    await app.close();
  }
}

/** After an import of persons, repertory or amounts: the new version's read model, and old ones pruned. */
export async function rebuildAfterImport(app: AppContext): Promise<{ built?: ReturnType<typeof describe>; error?: string }> {
  try {
    const built = await app.readModels.build(app.db);
    await app.readModels.prune(app.db);
    return { built: describe(built) };
  } catch (err) {
    // The import is committed; the next batch builds the read model when it finds it missing.
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function describe(b: BuildResult): { storeVersion: number; path: string; bytes: number; seconds: number; counts: BuildResult['counts'] } {
  return { storeVersion: b.storeVersion, path: b.path, bytes: b.bytes, seconds: Math.round(b.ms) / 1000, counts: b.counts };
}

export function summary(b: BuildResult): string {
  const c = b.counts;
  return `read model v${b.storeVersion} at ${b.path}: ${(b.bytes / 1e6).toFixed(1)} MB, built in ${(b.ms / 1000).toFixed(1)} s (${c.persons} persons, ${c.repertory} repertory rows, ${c.amounts} amount rows)`;
}
