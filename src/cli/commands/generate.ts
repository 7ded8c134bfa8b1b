import { resolve, join } from 'node:path';
import { generateDataset, rng, DEMO_CLIENTS } from '../../generate/dataset.js';
import { sampleLines, writeRequestFile } from '../../generate/requests.js';
import { readOcmwList } from '../../generate/ocmwList.js';
import { HANDISERVICE_CLIENT, handiserviceLines } from '../../generate/handiservice.js';
import { LdmError } from '../../errors.js';
import { isoDate, print } from '../output.js';

function count(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new LdmError('USAGE', `${what} must be a whole number ≥ 0, got "${v}"`, { exitCode: 2 });
  return n;
}

export async function runGenerate(o: { out: string; persons: string; lines: string; seed: string; referenceDate: string }): Promise<void> {
  const referenceDate = isoDate(o.referenceDate, '--reference-date') as string;
  const out = resolve(o.out);
  const persons = count(o.persons, '--persons');
  const lines = count(o.lines, '--lines');
  const seed = count(o.seed, '--seed');
  const ds = await generateDataset({ out, persons, seed, referenceDate, ocmws: await readOcmwList() });
  print(`data set in ${out}: ocmws come from the shipped list; ${Object.values(ds.files).join(', ')}`);
  if (lines > 0) {
    const c = DEMO_CLIENTS[0];
    const file = join(out, `request-${lines}.xml`);
    const year = Number(referenceDate.slice(0, 4));
    await writeRequestFile(
      file,
      { fileId: `GEN-${seed}-${lines}`, senderCbe: c.cbeNumber, service: c.service, legalContext: c.legalContext, environment: 'PROD', createdAt: `${referenceDate}T03:00:00Z` },
      sampleLines(ds.persons, rng(seed + 1), lines, year),
    );
    print(`request file ${file} (${lines} lines, sender ${c.clientId})`);
    const hs = HANDISERVICE_CLIENT;
    const hsFile = join(out, `request-handiservice-${lines}.xml`);
    const current = ds.persons.filter((p) => p.replacedBy === null).map((p) => p.ssin);
    await writeRequestFile(
      hsFile,
      { fileId: `GEN-HS-${seed}-${lines}`, senderCbe: hs.cbeNumber, service: 'Handiservice', legalContext: hs.authorizations[0].legalContext, environment: 'PROD', createdAt: `${referenceDate}T03:00:00Z` },
      handiserviceLines(current, rng(seed + 2), lines, referenceDate),
    );
    print(`request file ${hsFile} (${lines} Handiservice lines, sender ${hs.clientId}, ${hs.authorizations[0].legalContext})`);
  }
}
