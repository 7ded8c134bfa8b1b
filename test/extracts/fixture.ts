// A generated store for the extract tests: the generator's three clients plus four for the
// refusals and the field profile, imported through the real CSV import, and the extracts config.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { BIN, run, type Instance } from '../helpers/instance.js';
import type { SpoolTransport } from '../../src/spool/transport.js';

/** The clock of every run: ProcessedAt, and "today" for --as-of. */
export const CLOCK = '2026-02-15T03:00:00Z';

export const EXTRA_CLIENTS = [
  // sector 17 like fin, but another CBE: only sector-level integrations count for it; a field profile
  'prof,0412345614,17,Profile client,LivingWagesWithAmount,FPS_FINANCE:TAX_ASSESSMENT,1,IVC/TEST/1,Year amountCents months ocmw',
  // a sector nobody is integrated in: no finality basis
  'nofin,0423456765,99,No integration,LivingWagesWithAmount,NOFIN:CTX,1,IVC/TEST/2,',
  // its profile has no Year
  'monthsonly,0434567819,17,Months only,LivingWagesWithAmount,MONTHS:CTX,1 2,IVC/TEST/3,Months amountCents',
  // no LivingWagesWithAmount authorization at all
  'noauth,0445678970,17,Rights only,LivingWages,RIGHTS:CTX,1 2,IVC/TEST/4,',
];

export const EXTRACTS = [
  { clientId: 'fin', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', schedule: '0 3 15 1 *' },
  { clientId: 'mut', legalContext: 'HEALTH_INSURANCE:INCREASED_REIMBURSEMENT', schedule: '0 3 15 1 *' },
  { clientId: 'vla', legalContext: 'CHILD_BENEFIT:SOCIAL_SUPPLEMENT', schedule: '0 3 15 1 *' },
  { clientId: 'prof', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', schedule: '0 3 15 1 *' },
  { clientId: 'nofin', legalContext: 'NOFIN:CTX', schedule: '0 3 15 1 *' },
  { clientId: 'monthsonly', legalContext: 'MONTHS:CTX', schedule: '0 3 15 1 *' },
  { clientId: 'noauth', legalContext: 'RIGHTS:CTX', schedule: '0 3 15 1 *' },
];

/** Generates and imports a store of `persons` persons; returns the folder of the CSV files. */
export async function loadStore(inst: Instance, persons: number, seed: number, extra: Record<string, unknown> = {}): Promise<string> {
  const gen = join(inst.dir, 'gen');
  const g = await run(process.execPath, [BIN, 'generate', '--out', gen, '--persons', String(persons), '--seed', String(seed)], { cwd: inst.dir });
  expect(g.code, g.stderr).toBe(0);
  const clients = join(gen, 'clients.csv');
  await writeFile(clients, `${(await readFile(clients, 'utf8')).trimEnd()}\n${EXTRA_CLIENTS.join('\n')}\n`);
  for (const kind of ['clients', 'persons', 'repertory', 'amounts']) {
    const r = await inst.cli(['import', kind, join(gen, `${kind}.csv`)]);
    expect(r.code, `${kind}: ${r.stderr}`).toBe(0);
  }
  const cfg = JSON.parse(await readFile(inst.config, 'utf8')) as Record<string, unknown>;
  await writeFile(inst.config, JSON.stringify({ ...cfg, extracts: EXTRACTS, ...extra }, null, 2));
  return gen;
}

export interface ParsedTotal {
  attrs: Record<string, string>;
  partners: string[];
}

export interface ParsedExtract {
  header: Record<string, string>;
  lines: { seq: number; ssin: string; status: string; year: string; totals: ParsedTotal[] }[];
  recordCount: number;
  statusCounts: Record<string, number>;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => ['Response', 'Total', 'Partner', 'StatusCount'].includes(name),
});

type Node = Record<string, unknown>;

export function parseExtract(xml: string): ParsedExtract {
  const root = (parser.parse(xml) as { BatchResponse: Node }).BatchResponse;
  const header = root.Header as Record<string, string>;
  const responses = ((root.Responses as Node | string | undefined) && typeof root.Responses === 'object' ? ((root.Responses as Node).Response as Node[] | undefined) : undefined) ?? [];
  const lines = responses.map((r) => {
    const year = r.Year as Node;
    const totals = ((year.Total as Node[] | undefined) ?? []).map((t) => {
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(t)) if (typeof v === 'string') attrs[k] = v;
      return { attrs, partners: ((t.Partner as Node[] | undefined) ?? []).map((p) => String(p.ssin)) };
    });
    return { seq: Number(r.seq), ssin: String(r.Ssin), status: String((r.Status as Node).code), year: String(year.year), totals };
  });
  const trailer = root.Trailer as Node;
  const statusCounts: Record<string, number> = {};
  for (const s of (trailer.StatusCount as Node[] | undefined) ?? []) statusCounts[String(s.code)] = Number(s['#text']);
  return { header, lines, recordCount: Number(trailer.RecordCount), statusCounts };
}

/**
 * The real spool transport, whose `publish` into out/ fails while `fault.left > 0` (each failure
 * uses one) with `fault.error()`, and counts its calls: a fault injected where the machine cannot
 * make out/ read-only (root ignores modes), classified by src/pipeline/faults.ts like a real one.
 */
export function faulty(t: SpoolTransport, fault: { left: number; error: () => Error; calls: number }): SpoolTransport {
  return new Proxy(t, {
    get(target, prop, receiver) {
      if (prop === 'publish') {
        return async (...args: Parameters<SpoolTransport['publish']>) => {
          if (args[2] === 'out') {
            fault.calls++;
            if (fault.left > 0) {
              fault.left--;
              throw fault.error();
            }
          }
          return target.publish(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A read-only out/ (a transient fault). */
export const erofs = (): Error => Object.assign(new Error("EROFS: read-only file system, link 'x' -> 'out/.EXTRACT.tmp'"), { code: 'EROFS', errno: -30 });
