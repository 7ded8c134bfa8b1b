// Differential test of Handiservice (contract §4, §6c, §7, §8), end to end: a data set written
// here (persons, both repertory levels in sectors 16 and 17 with dates on every boundary, the four
// kinds of DG PMH data with open ends, pending recognitions and empty values), imported with
// `ldm-batch import`, request files answered by `ldm-batch process` for the general and the
// reopened inquiry and for a 29 February reference date; every line compared with what a small
// independent implementation written here from the contract says. It shares no code with src/:
// plain loops over the CSV rows, its own SSIN check, calendar and clipping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeInstance, run, type Instance } from '../helpers/instance.js';
import { mulberry32 } from '../principles/oracle.js'; // a seeded PRNG for test data, not rule logic

const SEED = 1616;
const PERSONS = 420;
const OCMW_A = '0212000032'; // the sender
const OCMW_B = '0212111779'; // another OCMW

type Row = Record<string, string>;

// ------------------------------------------------------------------ calendar (own)

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const leap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const monthDays = (y: number, m: number): number => [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
function dayToDate(n: number): string {
  const d = new Date(Date.UTC(1970, 0, 1) + n * 86_400_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
const dateToDay = (s: string): number => Math.round(Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / 86_400_000);
const plusDays = (s: string, n: number): string => dayToDate(dateToDay(s) + n);
/** The same day `n` years on; a 29 February that does not exist is 1 March (contract §6c). */
function yearsOn(s: string, n: number): string {
  const y = +s.slice(0, 4) + n;
  if (s.slice(5) === '02-29' && !leap(y)) return `${y}-03-01`;
  return `${y}${s.slice(4)}`;
}

// ------------------------------------------------------------------ numbers (own)

function ssinOf(first9: number, post2000: boolean): string {
  const body = pad(first9, 9);
  const check = 97 - ((post2000 ? 2_000_000_000 + first9 : first9) % 97);
  return `${body}${pad(check)}`;
}
function ssinOk(s: string, refYear: number): boolean {
  if (!/^[0-9]{11}$/.test(s)) return false;
  const check = +s.slice(9);
  const body = +s.slice(0, 9);
  if (check === 97 - (body % 97)) return true;
  return 2000 + +s.slice(0, 2) <= refYear && check === 97 - ((2_000_000_000 + body) % 97);
}
const cbeOf = (first8: number): string => `${pad(first8, 8)}${pad(97 - (first8 % 97))}`;
const DG_PMH = cbeOf(3121234); // an institution of sector 16

// ------------------------------------------------------------------ the data

interface Data {
  persons: Row[];
  repertory: Row[];
  recognitions: Row[];
  rights: Row[];
  payments: Row[];
  cards: Row[];
}

const REFERENCES = ['2026-03-15', '2024-02-29'];
/** Dates near every boundary either reference date has: its window start, the day before, the reference, the day after. */
const ANCHORS = REFERENCES.flatMap((r) => [yearsOn(r, -1), plusDays(yearsOn(r, -1), -1), r, plusDays(r, 1), `${r.slice(0, 7)}-01`, '2024-02-29', '2025-03-01', '2025-02-28']);

function makeData(seed: number): Data {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const anyDate = (): string => (rnd() < 0.45 ? plusDays(pick(ANCHORS), pick([-1, 0, 0, 1])) : dayToDate(dateToDay('2022-06-01') + Math.floor(rnd() * 2400)));
  const span = (): [string, string] => {
    const start = anyDate();
    const end = rnd() < 0.3 ? '' : rnd() < 0.4 ? plusDays(pick(ANCHORS), pick([-1, 0, 1])) : plusDays(start, Math.floor(rnd() * 900));
    return end !== '' && end < start ? [end, start] : [start, end];
  };
  const d: Data = { persons: [], repertory: [], recognitions: [], rights: [], payments: [], cards: [] };
  const repKeys = new Set<string>();
  const rep = (ssin: string, sector: number, inst: string, qc: number, open = false): void => {
    const [start, end] = open ? [dayToDate(dateToDay('2022-01-01') + Math.floor(rnd() * 900)), ''] : span();
    const key = `${ssin}|${sector}|${inst}|${qc}|${start}`;
    if (repKeys.has(key)) return;
    repKeys.add(key);
    d.repertory.push({ ssin, sector: String(sector), institution_cbe: inst, quality_code: pick([String(qc), pad(qc, 3)]), start_date: start, end_date: end });
  };
  let recN = 0;
  let rightN = 0;
  let cardN = 0;
  for (let i = 0; i < PERSONS; i++) {
    const ssin = ssinOf(600_101_000 + i * 7, false);
    const replaced = rnd() < 0.05;
    d.persons.push({ ssin, replaced_by: replaced ? ssinOf(700_101_000 + i, false) : '' });
    // the sender's own dossier (sector 17, institution level), 0-2 of them
    const own = rnd() < 0.85 ? (rnd() < 0.3 ? 2 : 1) : 0;
    for (let k = 0; k < own; k++) rep(ssin, 17, OCMW_A, pick([1, 1, 2, 3, 4, 5, 6, 7, 30]), rnd() < 0.4);
    // noise that never counts for the sender: sector level, another OCMW, a sector-16 row at the sender's CBE
    if (rnd() < 0.25) rep(ssin, 17, '', pick([1, 2]));
    if (rnd() < 0.2) rep(ssin, 17, OCMW_B, 1);
    // the provider's integration (sector 16): sector level, or at an institution (DG PMH, even the sender's CBE)
    const prov = rnd() < 0.85 ? (rnd() < 0.3 ? 2 : 1) : 0;
    for (let k = 0; k < prov; k++) rep(ssin, 16, pick(['', '', DG_PMH, OCMW_A]), pick([1, 2, 3, 5, 7]), rnd() < 0.3);
    // the DG PMH data
    const leg = (): string => pick(['IT', 'IVT', 'THAB', 'CHILD']);
    const b = (): string => pick(['true', 'false', '']);
    for (let k = Math.floor(rnd() * 4); k > 0; k--) {
      const pending = rnd() < 0.2;
      const [start, end] = span();
      const request = pending ? start : plusDays(start, -Math.floor(rnd() * 200));
      d.recognitions.push({
        recognition_id: `REC-${pad(++recN, 5)}`,
        ssin,
        legislation: leg(),
        request_date: request,
        status: pending ? 'PENDING' : pick(['DECIDED', 'APPEAL']),
        decision_date: pending || rnd() < 0.2 ? '' : plusDays(request, 30),
        start_date: pending ? '' : start,
        end_date: end,
        points: rnd() < 0.3 ? '' : String(Math.floor(rnd() * 19)),
        earning_capacity_reduced: b(),
        lower_limbs_50: b(),
        full_blindness: b(),
        upper_limbs_amputated: b(),
        upper_limbs_paralysed: b(),
      });
    }
    for (let k = Math.floor(rnd() * 3); k > 0; k--) {
      const [start, end] = span();
      d.rights.push({
        right_id: `HR-${pad(++rightN, 5)}`,
        ssin,
        legislation: leg(),
        category: pick(['A', 'B', 'C3', 'CAT5']),
        start_date: start,
        end_date: end,
        monthly_amount_cents: rnd() < 0.2 ? '' : String(Math.floor(rnd() * 200_000)),
        partner_income: b(),
      });
    }
    const months = new Set<string>();
    for (let k = Math.floor(rnd() * 7); k > 0; k--) {
      const day = anyDate();
      const l = leg();
      const key = `${day.slice(0, 7)}|${l}`;
      if (months.has(key)) continue;
      months.add(key);
      d.payments.push({ ssin, month: day.slice(0, 7), legislation: l, amount_cents: String(Math.floor(rnd() * 150_000) - 5_000), suspended_cents: rnd() < 0.6 ? '' : String(Math.floor(rnd() * 10_000)) });
    }
    for (let k = Math.floor(rnd() * 3); k > 0; k--) {
      const [start, end] = span();
      d.cards.push({ card_number: `CARD-${pad(++cardN, 5)}`, ssin, type: pick(['PARKING', 'REDUCTION']), delivered_on: start, end_date: end });
    }
  }
  return d;
}

function csv(rows: Row[], columns: string[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => r[c]).join(','))].join('\n') + '\n';
}

// ------------------------------------------------------------------ the request lines

interface Line {
  seq: number;
  ssin: string;
  from: string;
  to: string;
  role?: string;
  months?: boolean;
}

function makeLines(data: Data, n: number, ref: string, seed: number): Line[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const refYear = +ref.slice(0, 4);
  const window = yearsOn(ref, -1);
  const out: Line[] = [];
  for (let seq = 1; seq <= n; seq++) {
    let ssin = pick(data.persons).ssin;
    const r = rnd();
    if (r < 0.03) ssin = `${ssin.slice(0, 9)}${pad((+ssin.slice(9) + 1) % 100)}`; // wrong check digits (MSG00011)
    else if (r < 0.06) ssin = ssinOf(800_101_000 + seq, false); // unknown (MSG00005)
    if (!ssinOk(ssin, refYear) && r >= 0.03) ssin = pick(data.persons).ssin;
    // periods on the boundaries: the window, one year, 29 February, the reference month
    let from: string;
    let to: string;
    const kind = rnd();
    if (kind < 0.08) [from, to] = pick([
      ['2024-02-29', '2025-02-28'],
      ['2024-02-29', '2025-03-01'],
      ['2023-03-01', '2024-02-29'],
      ['2023-02-28', '2024-02-28'],
    ] as const);
    else if (kind < 0.16) {
      from = plusDays(window, pick([-40, -1, 0, 1]));
      to = pick([plusDays(yearsOn(from, 1), -1), yearsOn(from, 1), plusDays(from, 10), plusDays(window, pick([-1, 0]))]);
    } else {
      from = plusDays(ref, -20 - Math.floor(rnd() * 420));
      const len = pick([0, 1, 27, 95, 180, 300, 364, 364, 365]);
      to = rnd() < 0.06 ? yearsOn(from, 1) : rnd() < 0.05 ? plusDays(from, -pick([1, 30])) : plusDays(from, len);
      if (to.slice(0, 7) > ref.slice(0, 7) && rnd() < 0.8) to = ref;
    }
    if (rnd() < 0.04) to = pick([`${ref.slice(0, 7)}-${pad(monthDays(refYear, +ref.slice(5, 7)))}`, plusDays(`${ref.slice(0, 7)}-01`, 31 + 3)]); // the reference month's end / the next month
    const line: Line = { seq, ssin, from, to };
    if (rnd() < 0.02) line.role = 'BENEFICIARY';
    if (rnd() < 0.02) line.months = true;
    out.push(line);
  }
  return out;
}

function requestXml(lines: Line[], fileId: string, legalContext: string): string {
  const body = lines
    .map((l) => {
      const period = l.months ? `<Months><From>${l.from.slice(0, 7)}</From><To>${l.from.slice(0, 7)}</To></Months>` : `<Dates><From>${l.from}</From><To>${l.to}</To></Dates>`;
      return `    <Request seq="${l.seq}"><Ticket>t-${l.seq}</Ticket><Ssin>${l.ssin}</Ssin>${l.role ? `<Role>${l.role}</Role>` : ''}<Period>${period}</Period></Request>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<BatchRequest xmlns="urn:ldm-batch:v1">
  <Header><FileId>${fileId}</FileId><Sender><CbeNumber>${OCMW_A}</CbeNumber></Sender><Service>Handiservice</Service><LegalContext>${legalContext}</LegalContext><Environment>PROD</Environment><CreatedAt>2026-01-15T03:00:00Z</CreatedAt></Header>
  <Requests>
${body}
  </Requests>
  <Trailer><RecordCount>${lines.length}</RecordCount></Trailer>
</BatchRequest>
`;
}

// ------------------------------------------------------------------ the oracle (contract §6c)

const overlap = (aFrom: string, aTo: string, bFrom: string, bTo: string): boolean => (bTo === '' || aFrom <= bTo) && (aTo === '' || bFrom <= aTo);

interface Auth {
  qualityCodes: number[];
  reopened: boolean;
}

/** The expected answer of one line, normalized as `answered` normalizes the response. */
function oracle(data: Data, line: Line, ref: string, auth: Auth): string {
  const refYear = +ref.slice(0, 4);
  if (!ssinOk(line.ssin, refYear)) return 'MSG00011';
  const person = data.persons.find((p) => p.ssin === line.ssin);
  if (person === undefined) return 'MSG00005';
  if (person.replaced_by !== '') return `MSG00006 newSsin=${person.replaced_by}`;
  if (line.months || line.role !== undefined) return 'MSG00008';
  if (line.from > line.to) return 'MSG00008';
  if (line.to >= yearsOn(line.from, 1)) return 'MSG00008';
  if (line.to.slice(0, 7) > ref.slice(0, 7)) return 'MSG00008';
  const windowFrom = yearsOn(ref, -1);
  let sender = false;
  let provider = false;
  for (const r of data.repertory) {
    if (r.ssin !== line.ssin) continue;
    const qc = Number(r.quality_code);
    const sector = Number(r.sector);
    if (sector === 17 && r.institution_cbe === OCMW_A && qc >= 1 && qc <= 9 && auth.qualityCodes.includes(qc) && overlap(r.start_date, r.end_date, windowFrom, ref) && overlap(r.start_date, r.end_date, line.from, line.to)) sender = true;
    if (sector === 16 && [1, 2, 3, 5, 7].includes(qc) && overlap(r.start_date, r.end_date, line.from, line.to)) provider = true;
  }
  if (!sender) return 'MSG00012';
  if (!provider) return 'MSG00021';
  const clip = (from: string, to: string): [string, string] => [from > line.from ? from : line.from, to !== '' && to < line.to ? to : line.to];
  const entries: string[] = [];
  const fmt = (kind: string, attrs: [string, string][]): string =>
    `${kind}{${attrs
      .filter(([, v]) => v !== '')
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;
  const recs: [string, string, string][] = [];
  for (const r of data.recognitions) {
    if (r.ssin !== line.ssin) continue;
    const start = r.start_date === '' ? r.request_date : r.start_date;
    if (!overlap(start, r.end_date, line.from, line.to)) continue;
    const [f, t] = clip(start, r.end_date);
    const attrs: [string, string][] = [
      ['id', r.recognition_id],
      ['legislation', r.legislation],
      ['from', f],
      ['to', t],
      ['earningCapacityReduced', r.earning_capacity_reduced],
      ['lowerLimbs50', r.lower_limbs_50],
      ['fullBlindness', r.full_blindness],
      ['upperLimbsAmputated', r.upper_limbs_amputated],
      ['upperLimbsParalysed', r.upper_limbs_paralysed],
    ];
    if (!auth.reopened) attrs.push(['requestDate', r.request_date], ['status', r.status], ['decisionDate', r.decision_date], ['points', r.points]);
    recs.push([f, r.recognition_id, fmt('Recognition', attrs)]);
  }
  const rights: [string, string, string][] = [];
  for (const r of data.rights) {
    if (r.ssin !== line.ssin || !overlap(r.start_date, r.end_date, line.from, line.to)) continue;
    const [f, t] = clip(r.start_date, r.end_date);
    rights.push([
      f,
      r.right_id,
      fmt('Right', [
        ['id', r.right_id],
        ['legislation', r.legislation],
        ['category', r.category],
        ['from', f],
        ['to', t],
        ['monthlyAmountCents', r.monthly_amount_cents],
        ['partnerIncome', r.partner_income],
      ]),
    ]);
  }
  const pays: [string, string, string][] = [];
  if (!auth.reopened) {
    for (const p of data.payments) {
      if (p.ssin !== line.ssin || p.month < line.from.slice(0, 7) || p.month > line.to.slice(0, 7)) continue;
      pays.push([p.month, p.legislation, fmt('Payment', [['month', p.month], ['legislation', p.legislation], ['amountCents', p.amount_cents], ['suspendedCents', p.suspended_cents]])]);
    }
  }
  const cards: [string, string, string][] = [];
  for (const c of data.cards) {
    if (c.ssin !== line.ssin || !overlap(c.delivered_on, c.end_date, line.from, line.to)) continue;
    const [f, t] = clip(c.delivered_on, c.end_date);
    cards.push([f, c.card_number, fmt('SocialCard', [['number', c.card_number], ['type', c.type], ['from', f], ['to', t]])]);
  }
  for (const list of [recs, rights, pays, cards]) {
    list.sort((a, b) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const e of list) entries.push(e[2]);
  }
  return entries.length === 0 ? 'MSG00100' : `MSG00000 ${entries.join(' ')}`;
}

/** seq → normalized answer, read from the response XML with plain regular expressions. */
function answered(xml: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of xml.matchAll(/<Response seq="(\d+)">([\s\S]*?)<\/Response>/g)) {
    const body = m[2];
    const status = /<Status ([^>]*)>/.exec(body)?.[1] ?? '';
    const code = /code="([^"]+)"/.exec(status)?.[1] ?? '?';
    const newSsin = /newSsin="([^"]+)"/.exec(status)?.[1];
    let s = newSsin === undefined ? code : `${code} newSsin=${newSsin}`;
    const handicap = /<Handicap>([\s\S]*?)<\/Handicap>/.exec(body)?.[1];
    if (handicap !== undefined) {
      const entries = [...handicap.matchAll(/<(Recognition|Right|Payment|SocialCard)((?: \w+="[^"]*")*)>/g)].map((e) => {
        const attrs = [...e[2].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]] as [string, string]).sort(([a], [b]) => (a < b ? -1 : 1));
        return `${e[1]}{${attrs.map(([k, v]) => `${k}=${v}`).join(',')}}`;
      });
      s += ` ${entries.join(' ')}`;
    }
    out.set(Number(m[1]), s);
  }
  return out;
}

// ------------------------------------------------------------------ the run

const RUNS = [
  { name: 'general inquiry', fileId: 'HS-GENERAL', legalContext: 'PCSA:SOCIAL_INQUIRY', ref: REFERENCES[0], lines: 700, auth: { qualityCodes: [1, 2, 3, 4, 5, 6, 7, 30], reopened: false } },
  { name: 'reopened inquiry', fileId: 'HS-REOPENED', legalContext: 'PCSA:SOCIAL_INQUIRY_REOPENED', ref: REFERENCES[0], lines: 400, auth: { qualityCodes: [1, 2, 3], reopened: true } },
  { name: 'general inquiry, reference 29 February', fileId: 'HS-LEAP', legalContext: 'PCSA:SOCIAL_INQUIRY', ref: REFERENCES[1], lines: 400, auth: { qualityCodes: [1, 2, 3, 4, 5, 6, 7, 30], reopened: false } },
];

let inst: Instance;
let data: Data;
const results = new Map<string, { lines: Line[]; got: Map<number, string>; verify: number }>();

beforeAll(async () => {
  inst = await makeInstance();
  data = makeData(SEED);
  const files: [string, Row[], string[]][] = [
    ['persons', data.persons, ['ssin', 'replaced_by']],
    ['repertory', data.repertory, ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date', 'end_date']],
    ['handicap_recognitions', data.recognitions, Object.keys(data.recognitions[0])],
    ['handicap_rights', data.rights, Object.keys(data.rights[0])],
    ['handicap_payments', data.payments, Object.keys(data.payments[0])],
    ['social_cards', data.cards, Object.keys(data.cards[0])],
  ];
  const clients = [
    'client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields',
    `ocmw-a,${OCMW_A},17,OCMW A,Handiservice,PCSA:SOCIAL_INQUIRY,1 2 3 4 5 6 7 30,21/016,handiservice:general`,
    `ocmw-a,${OCMW_A},17,OCMW A,Handiservice,PCSA:SOCIAL_INQUIRY_REOPENED,1 2 3,21/016,handiservice:reopened`,
  ].join('\n');
  const c = await inst.cli(['import', 'clients', await inst.writeCsv('clients.csv', clients)]);
  expect(c.code, c.stderr).toBe(0);
  for (const [kind, rows, columns] of files) {
    const r = await inst.cli(['import', kind, await inst.writeCsv(`${kind}.csv`, csv(rows, columns)), '--json']);
    expect(r.code, `${kind}: ${r.stderr}`).toBe(0);
    expect((JSON.parse(r.stdout) as { inserted: number }).inserted, kind).toBe(rows.length);
  }
  for (const [k, run_] of RUNS.entries()) {
    const lines = makeLines(data, run_.lines, run_.ref, SEED + 1 + k);
    const request = join(inst.dir, `${run_.fileId}.xml`);
    await writeFile(request, requestXml(lines, run_.fileId, run_.legalContext));
    const out = join(inst.dir, `${run_.fileId}.response.xml`);
    const p = await inst.cli(['process', request, '-o', out, '--as-of', run_.ref]);
    expect(p.code, p.stderr).toBe(0);
    const v = await inst.cli(['verify', out]);
    results.set(run_.name, { lines, got: answered(await readFile(out, 'utf8')), verify: v.code });
  }
}, 300_000);

afterAll(async () => {
  await inst?.cleanup();
});

describe('Handiservice: `process` vs an independent implementation of §4 and §6c', () => {
  it.each(RUNS)('$name: every line agrees', (r) => {
    const { lines, got } = results.get(r.name) ?? { lines: [], got: new Map() };
    expect(got.size).toBe(lines.length);
    const disagree: string[] = [];
    for (const line of lines) {
      const want = oracle(data, line, r.ref, r.auth);
      const have = got.get(line.seq);
      if (have !== want) disagree.push(`seq ${line.seq} ${line.ssin} ${line.from}..${line.to}: want ${want}, got ${have}`);
    }
    expect(disagree.slice(0, 5)).toEqual([]);
  });

  it('covers every code, in all runs together, and reports the agreement count', () => {
    const seen = new Map<string, number>();
    let agree = 0;
    let total = 0;
    for (const r of RUNS) {
      const { lines, got } = results.get(r.name) ?? { lines: [], got: new Map<number, string>() };
      for (const line of lines) {
        total++;
        const have = got.get(line.seq) ?? '';
        if (have === oracle(data, line, r.ref, r.auth)) agree++;
        const code = have.split(' ')[0];
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }
    }
    console.log(`Handiservice differential: ${agree}/${total} lines agree; per code ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
    expect(total).toBeGreaterThanOrEqual(1000);
    expect(agree).toBe(total);
    for (const code of ['MSG00011', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00012', 'MSG00021', 'MSG00100', 'MSG00000']) expect(seen.get(code) ?? 0, code).toBeGreaterThanOrEqual(5);
  });

  it('the reopened profile never carries a Payment or the left-out Recognition attributes', () => {
    const { got } = results.get('reopened inquiry') ?? { got: new Map<number, string>() };
    const all = [...got.values()].join('\n');
    expect(all).toMatch(/Recognition\{/);
    expect(all).not.toMatch(/Payment\{|status=|decisionDate=|requestDate=|points=/);
    const general = [...(results.get('general inquiry')?.got.values() ?? [])].join('\n');
    expect(general).toMatch(/Payment\{/);
    expect(general).toMatch(/points=/);
  });

  it('every response verifies (`ldm-batch verify`, trusted certificate)', () => {
    for (const r of RUNS) expect(results.get(r.name)?.verify, r.name).toBe(0);
  });

  it('the response validates against the XSD and xmlsec1 accepts its signature', async () => {
    const out = join(inst.dir, `${RUNS[0].fileId}.response.xml`);
    const lint = await run('xmllint', ['--noout', '--schema', join(__dirname, '..', '..', 'schemas', 'ldm-batch-response.xsd'), out]);
    expect(lint.code, lint.stderr).toBe(0);
    const sec = await run('xmlsec1', ['--verify', '--trusted-pem', inst.cert, out]);
    expect(sec.code, sec.stderr).toBe(0);
  });

  it('audits every line of a person under service Handiservice, with the line\'s code', async () => {
    // the person asked about most often, over all runs
    const asked = new Map<string, string[]>();
    for (const r of RUNS) {
      const { lines, got } = results.get(r.name) ?? { lines: [], got: new Map<number, string>() };
      for (const l of lines) asked.set(l.ssin, [...(asked.get(l.ssin) ?? []), (got.get(l.seq) ?? '').split(' ')[0]]);
    }
    const [ssin, codes] = [...asked].filter(([s]) => ssinOk(s, 2026) && data.persons.some((p) => p.ssin === s)).sort((a, b) => b[1].length - a[1].length)[0];
    expect(codes.length).toBeGreaterThan(3);
    const a = await inst.cli(['audit', '--ssin', ssin, '--since', '10y', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const rows = JSON.parse(a.stdout) as { service: string; legalContext: string; status: { code: string } }[];
    expect(rows.map((r) => r.service)).toEqual(codes.map(() => 'Handiservice'));
    expect(rows.map((r) => r.status.code).sort()).toEqual([...codes].sort());
  });
});
