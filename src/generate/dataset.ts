// A synthetic but realistic data set, deterministic for a seed: clients, persons (some BIS
// numbers, some replaced SSINs, partners), repertory integrations at both levels (sector-level
// rows without institution, institution-level rows, some of another institution of the sender's
// sector that must not count), amounts over several years (three benefit types, three
// categories, provisional and definitive, corrections — some with the very key of the payment
// they correct —, equal rows that are two payments, some rows with a payment_id) and rights
// versions, plus request files. Written as the contract's CSV files so they go through the
// real import.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { makeSsin } from '../domain/ssin.js';
import { addMonths, daysInMonth, lastDayOfMonth } from '../domain/dates.js';
import { firstVisibleDay, isVisible } from '../domain/visibility.js';
import { BENEFIT_TYPES, CATEGORIES, type BenefitType, type Category } from '../interfaces.js';
import { HANDISERVICE_FILE_HEADERS, handiserviceClientRows, handiservicePerson, type HandiserviceFile } from './handiservice.js';

/** mulberry32: small, fast, good enough for test data; the same seed gives the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DemoClient {
  clientId: string;
  cbeNumber: string;
  sector: number;
  name: string;
  service: 'LivingWagesWithAmount';
  legalContext: string;
  qualityCodes: number[];
  deliberation: string;
}

/** Three requesting institutions (CBE numbers valid; FOD Financiën's is the contract's example). */
export const DEMO_CLIENTS: DemoClient[] = [
  { clientId: 'fin', cbeNumber: '0308357159', sector: 17, name: 'FOD Financiën', service: 'LivingWagesWithAmount', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', qualityCodes: [1, 2], deliberation: 'IVC/KSZG/23/123' },
  { clientId: 'mut', cbeNumber: '0411702543', sector: 26, name: 'Landsbond der Mutualiteiten', service: 'LivingWagesWithAmount', legalContext: 'HEALTH_INSURANCE:INCREASED_REIMBURSEMENT', qualityCodes: [3], deliberation: 'IVC/KSZG/21/045' },
  { clientId: 'vla', cbeNumber: '0316381039', sector: 41, name: 'Vlaams Agentschap Opgroeien', service: 'LivingWagesWithAmount', legalContext: 'CHILD_BENEFIT:SOCIAL_SUPPLEMENT', qualityCodes: [1, 4], deliberation: 'IVC/KSZG/22/210' },
];

export interface GeneratedPerson {
  ssin: string;
  replacedBy: string | null;
  partner: string | null;
  beneficiary: boolean;
  /** Per DEMO_CLIENTS entry, the repertory row written for this person (null: none). */
  dossiers?: (GeneratedDossier | null)[];
  /** Months (YYYY-MM, ascending) with at least one amount row visible on the reference date. */
  visibleMonths?: string[];
}

export interface GeneratedDossier {
  /** true: written as a sector-level integration (no institution_cbe). */
  sectorLevel?: boolean;
  qualityCode: number;
  start: string;
  end: string | null;
}

export interface GenerateOptions {
  out: string;
  persons: number;
  seed: number;
  /** The data runs up to this date (amounts paid later do not exist yet). */
  referenceDate: string;
  ocmws: string[];
  firstYear?: number;
  /** false: compute the persons (with their dossiers and visible months) without writing the CSV files. */
  writeFiles?: boolean;
}

class CsvOut {
  private buf: string[] = [];
  private stream: WriteStream | undefined;
  constructor(path: string, header: string, write = true) {
    this.stream = write ? createWriteStream(path) : undefined;
    this.buf.push(header);
  }
  async row(cells: (string | number | null)[]): Promise<void> {
    this.buf.push(cells.map((c) => (c === null ? '' : String(c))).join(','));
    if (this.buf.length >= 4096) await this.flush();
  }
  private async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    if (!this.stream) {
      this.buf = [];
      return;
    }
    const ok = this.stream.write(this.buf.join('\n') + '\n');
    this.buf = [];
    if (!ok) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    if (!this.stream) return;
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** Monthly amount in cents for a category (leefloon 2025 orders of magnitude). */
function monthlyCents(category: Category, type: BenefitType): number {
  const base = category === 'COHABITANT' ? 89_012 : category === 'ISOLATED' ? 133_518 : 180_452;
  return type === 'CHILD_BENEFIT_ADVANCE' ? Math.round(base / 4) : base;
}

export interface GeneratedDataset {
  dir: string;
  persons: GeneratedPerson[];
  files: { clients: string; persons: string; repertory: string; amounts: string; rights: string } & Record<HandiserviceFile, string>;
}

/** Another institution of sector 17 (an OCMW's CBE number, valid): its register counts only for itself. */
const OTHER_INSTITUTION = '0212000032';

export async function generateDataset(o: GenerateOptions): Promise<GeneratedDataset> {
  const r = rng(o.seed);
  if (o.writeFiles ?? true) await mkdir(o.out, { recursive: true });
  const files = {
    clients: join(o.out, 'clients.csv'),
    persons: join(o.out, 'persons.csv'),
    repertory: join(o.out, 'repertory.csv'),
    amounts: join(o.out, 'amounts.csv'),
    rights: join(o.out, 'rights.csv'),
    ...(Object.fromEntries(Object.keys(HANDISERVICE_FILE_HEADERS).map((k) => [k, join(o.out, `${k}.csv`)])) as Record<HandiserviceFile, string>),
  };

  const write = o.writeFiles ?? true;
  const clients = new CsvOut(files.clients, 'client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields', write);
  for (const c of DEMO_CLIENTS) {
    await clients.row([c.clientId, c.cbeNumber, c.sector, `"${c.name}"`, c.service, c.legalContext, c.qualityCodes.join(' '), c.deliberation, null]);
  }
  for (const row of handiserviceClientRows()) await clients.row(row);
  await clients.close();

  // Persons: distinct SSINs; about 5% BIS numbers, 3% replaced by a new number.
  const seen = new Set<string>();
  const newSsin = (): string => {
    for (;;) {
      const year = 1945 + Math.floor(r() * 62); // 1945..2006: both sides of 2000
      const bis = r() < 0.05 ? (r() < 0.5 ? 'unknown' : 'known') : undefined;
      const s = makeSsin({ year, month: 1 + Math.floor(r() * 12), day: 1 + Math.floor(r() * 28) }, 1 + Math.floor(r() * 997), bis);
      if (!seen.has(s)) {
        seen.add(s);
        return s;
      }
    }
  };
  const persons: GeneratedPerson[] = [];
  for (let i = 0; i < o.persons; i++) persons.push({ ssin: newSsin(), replacedBy: null, partner: null, beneficiary: r() < 0.85 });
  const replacements: GeneratedPerson[] = [];
  for (const p of persons) {
    if (r() < 0.03) {
      p.replacedBy = newSsin();
      p.beneficiary = false; // data moved to the new number
      replacements.push({ ssin: p.replacedBy, replacedBy: null, partner: null, beneficiary: true });
    }
  }
  persons.push(...replacements);
  // Partners: pairs among the current numbers.
  const current = persons.filter((p) => p.replacedBy === null);
  for (let i = 0; i + 1 < current.length; i += 2) {
    if (r() < 0.35) {
      current[i].partner = current[i + 1].ssin;
      current[i + 1].partner = current[i].ssin;
    }
  }
  const personsCsv = new CsvOut(files.persons, 'ssin,replaced_by', write);
  for (const p of persons) await personsCsv.row([p.ssin, p.replacedBy]);
  await personsCsv.close();

  // Repertory: each client holds an integration for most persons; some end early, some start late.
  const firstYear = o.firstYear ?? 2022;
  const repertory = new CsvOut(files.repertory, 'ssin,sector,institution_cbe,quality_code,start_date,end_date', write);
  // Handiservice (contract §6c): its own random sequence, so the rows above and below stay as they were.
  const hr = rng(o.seed ^ 0x16016);
  const handiservice = Object.fromEntries(
    Object.entries(HANDISERVICE_FILE_HEADERS).map(([k, header]) => [k, new CsvOut(files[k as HandiserviceFile], header, write)]),
  ) as Record<HandiserviceFile, CsvOut>;
  let handiserviceIndex = 0;
  for (const p of persons) {
    if (p.replacedBy === null) {
      const h = handiservicePerson(hr, p.ssin, ++handiserviceIndex, firstYear, o.referenceDate);
      for (const row of h.repertory) await repertory.row(row);
      for (const [k, rows] of Object.entries(h.files)) for (const row of rows) await handiservice[k as HandiserviceFile].row(row);
    }
    p.dossiers = [];
    for (const c of DEMO_CLIENTS) {
      const x = r();
      if (x < 0.1) {
        p.dossiers.push(null);
        continue; // no dossier at this institution: MSG00012
      }
      const start = x < 0.2 ? `${firstYear + 2}-07-01` : `${firstYear - 1}-01-01`;
      const end = x > 0.93 ? `${firstYear + 1}-06-30` : null;
      const wrongCode = r() < 0.03;
      // A code the sender may not use: in sector 17 one of that sector's list (only listed codes import).
      const notAllowed = c.sector === 17 ? 30 : 99;
      const qualityCode = wrongCode ? notAllowed : pick(r, c.qualityCodes);
      const sectorLevel = r() < 0.3;
      p.dossiers.push({ qualityCode, start, end, sectorLevel });
      await repertory.row([p.ssin, String(c.sector).padStart(3, '0'), sectorLevel ? null : c.cbeNumber, qualityCode, start, end]);
    }
    // Another institution's own register in FOD Financiën's sector: never counts for it.
    if (r() < 0.05) await repertory.row([p.ssin, DEMO_CLIENTS[0].sector, OTHER_INSTITUTION, DEMO_CLIENTS[0].qualityCodes[0], `${firstYear - 1}-01-01`, null]);
  }
  await repertory.close();
  for (const out of Object.values(handiservice)) await out.close();

  // Amounts: spells of months per beneficiary, paid the month after, visible from the first
  // Saturday after that; provisional for the last months before the reference date.
  const amounts = new CsvOut(files.amounts, 'ssin,partner_ssin,ocmw_cbe,benefit_type,category,month,grant_from,grant_to,amount_cents,paid_on,status,payment_id', write);
  let payments = 0;
  // About half the rows carry the data provider's reference; the others are told apart by rank.
  const paymentId = (): string | null => (r() < 0.5 ? `PAY-${o.seed}-${++payments}` : null);
  const lastMonth = o.referenceDate.slice(0, 7);
  for (const p of persons) {
    if (!p.beneficiary || p.replacedBy) continue;
    const visible = new Set<string>();
    p.visibleMonths = [];
    let month = `${firstYear + Math.floor(r() * 3)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}`;
    const spells = 1 + Math.floor(r() * 3);
    for (let s = 0; s < spells && month <= lastMonth; s++) {
      const ocmw = pick(r, o.ocmws);
      const type: BenefitType = r() < 0.8 ? 'LEEFLOON' : pick(r, BENEFIT_TYPES);
      const category: Category = p.partner ? 'COHABITANT' : pick(r, CATEGORIES);
      const length = 1 + Math.floor(r() * 18);
      for (let m = 0; m < length && month <= lastMonth; m++) {
        const days = daysInMonth(month);
        const startDay = m === 0 && r() < 0.4 ? 1 + Math.floor(r() * 20) : 1;
        const grantFrom = `${month}-${String(startDay).padStart(2, '0')}`;
        const grantTo = lastDayOfMonth(month);
        const full = monthlyCents(category, type);
        const cents = Math.round((full * (days - startDay + 1)) / days);
        const paidOn = `${addMonths(month, 1)}-0${1 + Math.floor(r() * 5)}`;
        if (firstVisibleDay(paidOn) > o.referenceDate && paidOn > o.referenceDate) break; // not paid yet
        const status = addMonths(paidOn.slice(0, 7), 4) <= lastMonth ? 'DEFINITIVE' : 'PROVISIONAL';
        await amounts.row([p.ssin, p.partner, ocmw, type, category, month, grantFrom, grantTo, cents, paidOn, status, paymentId()]);
        if (isVisible(paidOn, o.referenceDate)) visible.add(month);
        // A second payment equal in every column: two payments, never one.
        if (r() < 0.01) await amounts.row([p.ssin, p.partner, ocmw, type, category, month, grantFrom, grantTo, cents, paidOn, status, null]);
        const c = r();
        if (c < 0.02) {
          // a correction paid three months later
          const corrPaid = `${addMonths(month, 3)}-10`;
          if (corrPaid <= o.referenceDate) {
            await amounts.row([p.ssin, p.partner, ocmw, type, category, month, grantFrom, grantTo, -Math.round(cents / 10), corrPaid, 'DEFINITIVE', paymentId()]);
            if (isVisible(corrPaid, o.referenceDate)) visible.add(month);
          }
        } else if (c < 0.05) {
          // a correction with the very key of its payment (same month, paid_on and grant_from)
          await amounts.row([p.ssin, p.partner, ocmw, type, category, month, grantFrom, grantTo, -Math.round(cents / 7), paidOn, status, paymentId()]);
        }
        month = addMonths(month, 1);
      }
      month = addMonths(month, 1 + Math.floor(r() * 6)); // a gap between spells
    }
    p.visibleMonths = [...visible].sort();
  }
  await amounts.close();

  // Rights (§6): versions of leefloon rights granted by an OCMW; some modified, some cancelled.
  const rightsCsv = new CsvOut(files.rights, 'right_id,version,ssin,ocmw_cbe,right_type,start_date,end_date,event,decided_on', write);
  let rightNo = 0;
  for (const p of persons) {
    if (p.replacedBy !== null || r() >= 0.3) continue;
    const id = `R-${o.seed}-${++rightNo}`;
    const ocmw = pick(r, o.ocmws);
    const type = r() < 0.8 ? 'LEEFLOON' : 'EQUIVALENT_LEEFLOON';
    const start = `${firstYear + Math.floor(r() * 3)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-01`;
    const decided = `${start.slice(0, 8)}0${1 + Math.floor(r() * 9)}`;
    await rightsCsv.row([id, 1, p.ssin, ocmw, type, start, null, 'CREATED', decided]);
    const x = r();
    if (x < 0.3) {
      const end = lastDayOfMonth(addMonths(start.slice(0, 7), 3 + Math.floor(r() * 12)));
      const decided2 = `${addMonths(start.slice(0, 7), 2)}-15`;
      if (decided2 <= o.referenceDate) await rightsCsv.row([id, 2, p.ssin, ocmw, type, start, end, 'MODIFIED', decided2]);
    } else if (x < 0.4) {
      const decided2 = `${addMonths(start.slice(0, 7), 1)}-20`;
      if (decided2 <= o.referenceDate) await rightsCsv.row([id, 2, p.ssin, ocmw, type, start, null, 'CANCELLED', decided2]);
    }
  }
  await rightsCsv.close();
  return { dir: o.out, persons, files };
}
