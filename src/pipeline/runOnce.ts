// One poll of every client's spool: pick up ready files, process each, report what happened.
import type { Client } from '../interfaces.js';
import { pickReady, type PickupState } from '../spool/pickup.js';
import { processSpoolFile, recoverClient, type FileOutcome, type SpoolContext } from './processSpoolFile.js';

export interface PollSummary {
  files: { client: string; file: string; outcome: FileOutcome }[];
}

export async function pollOnce(ctx: SpoolContext, clients: readonly Client[], opts: { minAgeMs: number; states?: Map<string, PickupState>; shouldStop?: () => boolean }): Promise<PollSummary> {
  const summary: PollSummary = { files: [] };
  for (const client of clients) {
    await ctx.transport.ensureFolders(client.clientId);
    for (const r of await recoverClient(ctx, client)) summary.files.push({ client: client.clientId, ...r });
    const entries = await ctx.transport.list(client.clientId, 'in');
    const ready = pickReady(entries, opts.states?.get(client.clientId), Date.now(), opts.minAgeMs);
    for (const entry of ready) {
      if (opts.shouldStop?.()) return summary;
      const outcome = await processSpoolFile(ctx, client, entry.name);
      summary.files.push({ client: client.clientId, file: entry.name, outcome });
    }
  }
  return summary;
}
