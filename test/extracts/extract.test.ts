// Scheduled extracts (contract §6d) over a generated store, answered by the CLI and compared
// with an independent computation (oracle.ts: plain loops over the import CSVs): who is in each
// extract, in SSIN order, and each person's yearly totals per (ocmw, benefitType, category);
// the header, the signature (xmlsec1, ldm-batch verify), the response XSD (xmllint), the audit
// entries, exactly once on a second run, and the refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hasTool, makeInstance, run, ROOT, type Instance } from '../helpers/instance.js';
import { patient } from '../helpers/patience.js';
import { openDatabase, parseDatabaseSpec, type Db } from '../../src/store/db.js';
import { expectedExtract, type OracleClient, type OracleTotal } from './oracle.js';
import { CLOCK, loadStore, parseExtract, type ParsedTotal } from './fixture.js';
import { auditEntries } from '../helpers/auditEntries.js';

const XMLSEC = '/usr/bin/xmlsec1';
const XMLLINT = '/usr/bin/xmllint';
const XSD = join(ROOT, 'schemas', 'ldm-batch-response.xsd');

const CLIENTS: Record<string, OracleClient & { legalContext: string; profile?: string[] }> = {
  fin: { cbe: '0308357159', sector: 17, qualityCodes: [1, 2], legalContext: 'FPS_FINANCE:TAX_ASSESSMENT' },
  mut: { cbe: '0411702543', sector: 26, qualityCodes: [3], legalContext: 'HEALTH_INSURANCE:INCREASED_REIMBURSEMENT' },
  vla: { cbe: '0316381039', sector: 41, qualityCodes: [1, 4], legalContext: 'CHILD_BENEFIT:SOCIAL_SUPPLEMENT' },
  prof: { cbe: '0412345614', sector: 17, qualityCodes: [1], legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', profile: ['amountCents', 'months', 'ocmw'] },
};

/** The oracle's total as the file would show it under a field profile (undefined: every field). */
function shown(t: OracleTotal, profile: string[] | undefined): string {
  const all: Record<string, string | undefined> = {
    amountCents: String(t.amountCents),
    benefitType: t.benefitType,
    category: t.category,
    fullYear: String(t.fullYear),
    months: String(t.months),
    ocmw: t.ocmw,
    partnerSsin: t.partnerSsin,
    provisional: String(t.provisional),
  };
  const keep = (k: string): boolean => profile === undefined || profile.includes(k);
  const attrs = Object.keys(all).filter((k) => all[k] !== undefined && keep(k)).sort().map((k) => `${k}=${all[k]}`);
  const partners = keep('partnerSsin') ? (t.partners ?? []) : [];
  return `${attrs.join(' ')}${partners.length ? ` partners=${partners.join('/')}` : ''}`;
}

function fromFile(t: ParsedTotal): string {
  const attrs = Object.keys(t.attrs).sort().map((k) => `${k}=${t.attrs[k]}`);
  return `${attrs.join(' ')}${t.partners.length ? ` partners=${t.partners.join('/')}` : ''}`;
}

const CASES = [
  { client: 'fin', year: 2025, asOf: '2026-01-15' },
  { client: 'fin', year: 2023, asOf: '2026-01-15' },
  // the visibility boundary: payments of December 2025 become visible on Saturday 3 January 2026
  { client: 'mut', year: 2025, asOf: '2026-01-02' },
  { client: 'vla', year: 2025, asOf: '2026-01-03' },
  // sector-level integrations only (another CBE of sector 17), and a field profile
  { client: 'prof', year: 2025, asOf: '2026-01-15' },
];

describe('scheduled extracts (contract §6d) against an independent computation', () => {
  let inst: Instance;
  let gen: string;
  let db: Db;
  const env = { LDM_BATCH_CLOCK: CLOCK };

  beforeAll(async () => {
    inst = await makeInstance();
    gen = await loadStore(inst, 400, 17);
    db = await openDatabase(parseDatabaseSpec(join(inst.dir, 'data', 'ldm-batch.sqlite')));
  }, patient(120_000));
  afterAll(async () => {
    await db?.destroy();
    await inst?.cleanup();
  });

  it.each(CASES)('$client $year as of $asOf: the persons, their totals, header, signature, schema and audit', async ({ client, year, asOf }) => {
    const c = CLIENTS[client];
    const r = await inst.cli(['extract', 'run', '--client', client, '--year', String(year), '--as-of', asOf, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const [result] = (JSON.parse(r.stdout) as { extracts: { outcome: string; batchId: number; records: number; file: string }[] }).extracts;
    expect(result.outcome).toBe('WRITTEN');
    const file = join(inst.spool, client, 'out', `EXTRACT-${client}-${year}.xml`);
    expect(result.file).toBe(`out/EXTRACT-${client}-${year}.xml`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const xml = await readFile(file, 'utf8');
    const doc = parseExtract(xml);

    // the header of §6d: ExtractId instead of InReplyTo and RequestSha256
    expect(Object.keys(doc.header)).toEqual(['ExtractId', 'Service', 'ReferenceDate', 'ProcessedAt']);
    expect(doc.header).toEqual({ ExtractId: `EXTRACT-${client}-${year}`, Service: 'LivingWagesWithAmount', ReferenceDate: asOf, ProcessedAt: '2026-02-15T03:00:00Z' });

    // who is in it, in SSIN order, and their totals
    const want = expectedExtract(gen, c, year, asOf);
    expect(want.size, 'the generated store should give this extract some persons').toBeGreaterThan(5);
    expect(doc.lines.map((l) => l.ssin)).toEqual([...want.keys()]);
    expect(doc.lines.map((l) => l.seq)).toEqual(doc.lines.map((_, i) => i + 1));
    for (const line of doc.lines) {
      expect(line.status).toBe('MSG00000');
      expect(line.year).toBe(String(year));
      expect(line.totals.map(fromFile), `totals of seq ${line.seq}`).toEqual((want.get(line.ssin) ?? []).map((t) => shown(t, c.profile)));
    }
    expect(doc.recordCount).toBe(want.size);
    expect(doc.statusCounts).toEqual({ MSG00000: want.size });
    expect(result.records).toBe(want.size);

    // one audit entry per line, like a consultation, at ProcessedAt, under the authorization
    const audit: { ssin: string; seq: number; client_id: string; service: string; legal_context: string; status_code: string; consulted_at: string; quality_code: number | null }[] = await auditEntries(db, { batchId: result.batchId });
    expect(audit.map((a) => a.ssin)).toEqual([...want.keys()]);
    expect(audit.map((a) => a.seq)).toEqual(doc.lines.map((l) => l.seq));
    for (const a of audit) {
      expect(a).toMatchObject({ client_id: client, service: 'LivingWagesWithAmount', legal_context: c.legalContext, status_code: 'MSG00000', consulted_at: '2026-02-15T03:00:00Z' });
      expect(c.qualityCodes).toContain(Number(a.quality_code));
    }
    const who = await inst.cli(['audit', '--ssin', doc.lines[0].ssin, '--since', '2020-01-01', '--json'], { env });
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ institution: expect.objectContaining({ clientId: client }), consultedAt: '2026-02-15T03:00:00Z', service: 'LivingWagesWithAmount', legalContext: c.legalContext })]));

    // signed: ldm-batch verify and xmlsec1 accept it; the response XSD (extended for ExtractId) validates it
    const v = await inst.cli(['verify', file, '--cert', inst.cert, '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, trusted: true, fileId: `EXTRACT-${client}-${year}`, recordCount: want.size });
    if (hasTool(XMLSEC)) {
      const x = await run(XMLSEC, ['--verify', '--trusted-pem', inst.cert, file]);
      expect(x.code, x.stderr).toBe(0);
    } else console.warn(`xmlsec1 check skipped: ${XMLSEC} is not installed (scripts/test-setup.sh installs it)`);
    if (hasTool(XMLLINT)) {
      const x = await run(XMLLINT, ['--noout', '--schema', XSD, file]);
      expect(x.code, x.stderr).toBe(0);
    } else console.warn(`XSD check skipped: ${XMLLINT} is not installed (scripts/test-setup.sh installs it)`);

    // exactly once: a second run writes nothing, changes nothing
    const again = await inst.cli(['extract', 'run', '--client', client, '--year', String(year), '--as-of', asOf, '--json'], { env: { LDM_BATCH_CLOCK: '2026-02-16T05:00:00Z' } });
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { extracts: { outcome: string; processedAt: string }[] }).extracts[0]).toMatchObject({ outcome: 'ALREADY_WRITTEN', processedAt: '2026-02-15T03:00:00Z' });
    expect(await readFile(file, 'utf8')).toBe(xml);
    expect((await auditEntries(db, { batchId: result.batchId })).length).toBe(want.size);
    expect((await readdir(join(inst.spool, client, 'out'))).filter((n) => n.includes(`-${year}`))).toEqual([`EXTRACT-${client}-${year}.xml`]);
  }, patient(60_000));

  it('refuses, with a code, a client without the LivingWagesWithAmount authorization, without Year in its profile, or without a finality basis; nothing is claimed', async () => {
    const refusals: [string, string[], string, number][] = [
      ['noauth', [], 'EXTRACT_NOT_AUTHORIZED', 1],
      ['monthsonly', [], 'EXTRACT_NOT_AUTHORIZED', 1],
      ['nofin', [], 'EXTRACT_NO_FINALITY', 1],
      // fin's integrations start in the generated data's first year: none overlaps 2015
      ['fin', ['--year', '2015'], 'EXTRACT_NO_FINALITY', 1],
      ['fin', ['--year', '2026'], 'EXTRACT_YEAR_OPEN', 2],
      ['nobody', [], 'EXTRACT_NOT_CONFIGURED', 2],
    ];
    for (const [client, extra, code, exit] of refusals) {
      const r = await inst.cli(['extract', 'run', '--client', client, '--as-of', '2026-01-15', ...extra], { env });
      expect(r.code, `${client} ${extra.join(' ')}: ${r.stdout}${r.stderr}`).toBe(exit);
      expect(r.stderr).toContain(`[${code}]`);
      expect(r.stderr).not.toMatch(/\d{11}/); // never a full SSIN
    }
    const claimed: { client_id: string }[] = await db('extracts').whereIn('client_id', ['noauth', 'monthsonly', 'nofin']).orWhere({ client_id: 'fin', year: 2015 }).orWhere({ client_id: 'fin', year: 2026 });
    expect(claimed).toEqual([]);
    for (const c of ['noauth', 'monthsonly', 'nofin']) expect(await readdir(join(inst.spool, c, 'out')).catch(() => [])).toEqual([]);
    // all configured extracts at once: the refused ones are reported, the others written or already written; exit 1
    const all = await inst.cli(['extract', 'run', '--as-of', '2026-01-15', '--json'], { env });
    expect(all.code, all.stderr).toBe(1);
    const outcomes = Object.fromEntries((JSON.parse(all.stdout) as { extracts: { client: string; outcome: string; code?: string }[] }).extracts.map((e) => [e.client, e.code ?? e.outcome]));
    expect(outcomes).toEqual({ fin: 'ALREADY_WRITTEN', mut: 'ALREADY_WRITTEN', vla: 'ALREADY_WRITTEN', prof: 'ALREADY_WRITTEN', nofin: 'EXTRACT_NO_FINALITY', monthsonly: 'EXTRACT_NOT_AUTHORIZED', noauth: 'EXTRACT_NOT_AUTHORIZED' });
  }, patient(60_000));

  it('extract run --help explains; extract list shows the journal', async () => {
    const h = await inst.cli(['extract', 'run', '--help']);
    expect(h.code).toBe(0);
    for (const s of ['--client', '--year', '--as-of', '--json', 'EXTRACT_NO_FINALITY', 'EXTRACT_NOT_AUTHORIZED', 'ALREADY_WRITTEN']) expect(h.stdout).toContain(s);
    const l = await inst.cli(['extract', 'list', '--json']);
    expect(l.code, l.stderr).toBe(0);
    const rows = (JSON.parse(l.stdout) as { extracts: { extractId: string; state: string }[] }).extracts;
    expect(rows.map((x) => x.extractId).sort()).toEqual(CASES.map((c) => `EXTRACT-${c.client}-${c.year}`).sort());
    expect(rows.every((x) => x.state === 'DONE')).toBe(true);
  });
});
