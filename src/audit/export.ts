// `audit export`: the citizen's view of the audit register — for each consultation of their data
// in a period: when, which institution (name and CBE), which service, under which legal context
// and deliberation, and what came of it — as a JSON document and a printable PDF (pdfkit lays it
// out: page size, table with repeated header row, page breaks, page numbers). Built from the
// consultations of one SSIN only, so it cannot show anyone else.
import PDFDocument from 'pdfkit';
import type { Consultation } from './query.js';

export type ExportLang = 'nl' | 'fr' | 'en';
export const EXPORT_LANGS: readonly ExportLang[] = ['nl', 'fr', 'en'];

export type Outcome = 'given' | 'nothing-found' | 'refused' | 'not-answered';

export interface ExportedConsultation {
  /** ISO instant (UTC) of the consultation (the batch's ProcessedAt). */
  consultedAt: string;
  /** The same in the instance's time zone, YYYY-MM-DD HH:MM. */
  localTime: string;
  institution: { name: string | null; cbe: string | null; clientId: string };
  service: string;
  legalContext: string;
  deliberation: string | null;
  /** Request lines that named the person in this consultation. */
  lines: number;
  outcome: Outcome;
}

export interface AuditExport {
  document: 'ldm-batch audit export';
  version: 1;
  lang: ExportLang;
  /** In full: the document is made for the person it is about (README "Audit register"). */
  ssin: string;
  period: { from: string; to: string };
  timezone: string;
  generatedAt: string;
  consultations: ExportedConsultation[];
}

/** The best the institution got: data, an empty answer, a refusal, or nothing (an invalid or replaced number). */
export function outcomeOf(statuses: readonly string[]): Outcome {
  if (statuses.includes('MSG00000')) return 'given';
  // MSG00021 (Handiservice): the OCMW passed its own check, the provider had no dossier: nothing given.
  if (statuses.includes('MSG00100') || statuses.includes('MSG00021')) return 'nothing-found';
  if (statuses.includes('MSG00012')) return 'refused';
  return 'not-answered';
}

export function localTime(instant: string, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(instant));
  const p = (t: string): string => parts.find((x) => x.type === t)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}`;
}

/** The document's content (also the `--json` output). `consultations` must all be of `ssin`. */
export function buildExport(
  consultations: readonly Consultation[],
  o: { ssin: string; from: string; to: string; lang: ExportLang; timezone: string; generatedAt: string },
): AuditExport {
  return {
    document: 'ldm-batch audit export',
    version: 1,
    lang: o.lang,
    ssin: o.ssin,
    period: { from: o.from, to: o.to },
    timezone: o.timezone,
    generatedAt: o.generatedAt,
    consultations: consultations.map((c) => ({
      consultedAt: c.consultedAt,
      localTime: localTime(c.consultedAt, o.timezone),
      institution: { name: c.clientName, cbe: c.clientCbe, clientId: c.clientId },
      service: c.service,
      legalContext: c.legalContext,
      deliberation: c.deliberation,
      lines: c.lines.length,
      outcome: outcomeOf(c.lines.map((l) => l.statusCode)),
    })),
  };
}

interface Texts {
  title: string;
  intro: (from: string, to: string) => string;
  person: string;
  period: string;
  generated: string;
  none: string;
  count: (n: number) => string;
  head: [string, string, string, string, string, string];
  cbe: string;
  unknownInstitution: string;
  outcome: Record<Outcome, string>;
  services: Record<string, string>;
  footer: string;
  page: (n: number, of: number) => string;
}

const TEXTS: Record<ExportLang, Texts> = {
  nl: {
    title: 'Raadplegingen van uw gegevens',
    intro: (from, to) => `Dit overzicht toont welke instellingen uw gegevens bij de POD Maatschappelijke Integratie of de DG Personen met een handicap hebben geraadpleegd van ${from} tot en met ${to}, wanneer, voor welke dienst en op welke rechtsgrond (context en beraadslaging van het Informatieveiligheidscomité).`,
    person: 'Rijksregister- of BIS-nummer',
    period: 'Periode',
    generated: 'Opgemaakt op',
    none: 'In deze periode heeft geen enkele instelling uw gegevens geraadpleegd.',
    count: (n) => `${n} raadpleging${n === 1 ? '' : 'en'}`,
    head: ['Wanneer', 'Instelling', 'Dienst', 'Wettelijke context', 'Beraadslaging', 'Resultaat'],
    cbe: 'KBO',
    unknownInstitution: 'onbekende instelling',
    outcome: { given: 'gegevens meegedeeld', 'nothing-found': 'geen gegevens gevonden', refused: 'geweigerd (geen dossier bij die instelling)', 'not-answered': 'niet beantwoord' },
    services: { LivingWagesWithAmount: 'Leefloon: bedragen', LivingWages: 'Leefloon: rechten', Handiservice: 'Handiservice (personen met een handicap)' },
    footer: 'Vragen over een raadpleging? Richt u tot de functionaris voor gegevensbescherming van de vermelde instelling.',
    page: (n, of) => `Pagina ${n} van ${of}`,
  },
  fr: {
    title: 'Consultations de vos données',
    intro: (from, to) => `Ce relevé indique quelles institutions ont consulté vos données auprès du SPP Intégration sociale ou de la DG Personnes handicapées du ${from} au ${to} inclus, quand, pour quel service et sur quelle base légale (contexte et délibération du Comité de sécurité de l'information).`,
    person: 'Numéro de registre national ou BIS',
    period: 'Période',
    generated: 'Établi le',
    none: "Aucune institution n'a consulté vos données pendant cette période.",
    count: (n) => `${n} consultation${n === 1 ? '' : 's'}`,
    head: ['Quand', 'Institution', 'Service', 'Contexte légal', 'Délibération', 'Résultat'],
    cbe: 'BCE',
    unknownInstitution: 'institution inconnue',
    outcome: { given: 'données communiquées', 'nothing-found': 'aucune donnée trouvée', refused: 'refusé (pas de dossier auprès de cette institution)', 'not-answered': 'sans réponse' },
    services: { LivingWagesWithAmount: "Revenu d'intégration : montants", LivingWages: "Revenu d'intégration : droits", Handiservice: 'Handiservice (personnes handicapées)' },
    footer: "Une question sur une consultation ? Adressez-vous au délégué à la protection des données de l'institution mentionnée.",
    page: (n, of) => `Page ${n} sur ${of}`,
  },
  en: {
    title: 'Consultations of your data',
    intro: (from, to) => `This statement shows which institutions consulted your data at the PPS Social Integration or the DG Persons with Disabilities from ${from} to ${to} inclusive, when, for which service and on which legal basis (context and deliberation of the Information Security Committee).`,
    person: 'National register or BIS number',
    period: 'Period',
    generated: 'Issued on',
    none: 'No institution consulted your data in this period.',
    count: (n) => `${n} consultation${n === 1 ? '' : 's'}`,
    head: ['When', 'Institution', 'Service', 'Legal context', 'Deliberation', 'Outcome'],
    cbe: 'CBE',
    unknownInstitution: 'unknown institution',
    outcome: { given: 'data given', 'nothing-found': 'no data found', refused: 'refused (no file at that institution)', 'not-answered': 'not answered' },
    services: { LivingWagesWithAmount: 'Living wage: amounts', LivingWages: 'Living wage: rights', Handiservice: 'Handiservice (persons with a disability)' },
    footer: 'A question about a consultation? Contact the data protection officer of the institution named.',
    page: (n, of) => `Page ${n} of ${of}`,
  },
};

/** 85073003328 → 85.07.30-033.28 (the printed form on an eID card). */
export function printedSsin(ssin: string): string {
  return /^\d{11}$/.test(ssin) ? `${ssin.slice(0, 2)}.${ssin.slice(2, 4)}.${ssin.slice(4, 6)}-${ssin.slice(6, 9)}.${ssin.slice(9)}` : ssin;
}

/** 0308357159 → 0308.357.159 */
export function printedCbe(cbe: string): string {
  return /^\d{10}$/.test(cbe) ? `${cbe.slice(0, 4)}.${cbe.slice(4, 7)}.${cbe.slice(7)}` : cbe;
}

/** The words shown for one consultation (also what the tests read back from the PDF). */
export function rowTexts(c: ExportedConsultation, lang: ExportLang): [string, string, string, string, string, string] {
  const t = TEXTS[lang];
  const name = c.institution.name ?? `${t.unknownInstitution} (${c.institution.clientId})`;
  const inst = c.institution.cbe === null ? name : `${name}\n${t.cbe} ${printedCbe(c.institution.cbe)}`;
  const service = t.services[c.service] ?? c.service;
  return [c.localTime, inst, service, c.legalContext, c.deliberation ?? '–', t.outcome[c.outcome]];
}

/** The document as a PDF (A4, Helvetica, deterministic for the same content). */
export async function renderPdf(doc: AuditExport): Promise<Buffer> {
  const t = TEXTS[doc.lang];
  const when = new Date(doc.generatedAt);
  const margins = { top: 56, bottom: 56, left: 48, right: 48 };
  const pdf = new PDFDocument({
    size: 'A4',
    margins,
    bufferPages: true,
    lang: doc.lang,
    info: { Title: t.title, Producer: 'ldm-batch', Creator: 'ldm-batch audit export', CreationDate: when, ModDate: when },
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const width = pdf.page.width - pdf.page.margins.left - pdf.page.margins.right;
  pdf.font('Helvetica-Bold').fontSize(18).text(t.title);
  pdf.moveDown(0.5);
  pdf.font('Helvetica').fontSize(10).text(t.intro(doc.period.from, doc.period.to), { width });
  pdf.moveDown(0.8);
  const facts: [string, string][] = [
    [t.person, printedSsin(doc.ssin)],
    [t.period, `${doc.period.from} – ${doc.period.to}`],
    [t.generated, `${localTime(doc.generatedAt, doc.timezone)} (${doc.timezone})`],
  ];
  for (const [k, v] of facts) {
    pdf.font('Helvetica-Bold').text(`${k}: `, { continued: true }).font('Helvetica').text(v);
  }
  pdf.moveDown(0.8);
  if (doc.consultations.length === 0) {
    pdf.font('Helvetica-Oblique').text(t.none);
  } else {
    pdf.font('Helvetica-Bold').fontSize(11).text(t.count(doc.consultations.length));
    pdf.moveDown(0.4);
    pdf.fontSize(8);
    // pdfkit's table moves a row that does not fit to a new page whole, but does not repeat its
    // header there. So the table is drawn one page at a time, each a table of its own with the
    // header: rows are measured as pdfkit lays them out (a one-row table on a scratch page) and
    // a page takes the rows that fit below the header, with the same test pdfkit applies.
    const grey = '#e6e6e6';
    // Legal contexts are long codes (HEALTH:INCREASED_REIMBURSEMENT): their column is the widest.
    const style: PDFKit.Mixins.TableOptions = {
      columnStyles: [56, '*', 76, 124, 66, 76],
      defaultStyle: { padding: [3, 4], border: 0.5, borderColor: '#999999' },
      rowStyles: (i) => (i === 0 ? { backgroundColor: grey } : undefined),
    };
    type Row = PDFKit.Mixins.CellOptions[];
    const head: Row = t.head.map((h) => ({ text: h, type: 'TH' as const, font: { src: 'Helvetica-Bold' } }));
    const rows: Row[] = doc.consultations.map((c) =>
      rowTexts(c, doc.lang).map((text, col) => ({ text, font: { src: col === 0 ? 'Helvetica-Bold' : 'Helvetica' } })),
    );
    const scratch = new PDFDocument({ size: 'A4', margins }).fontSize(8);
    const heightOf = (row: Row): number => {
      scratch.y = scratch.page.margins.top;
      scratch.table({ ...style, data: [row] });
      return scratch.y - scratch.page.margins.top;
    };
    const headHeight = heightOf(head);
    const heights = rows.map(heightOf);
    const bottom = pdf.page.maxY();
    for (let i = 0; i < rows.length; ) {
      if (i > 0 || pdf.y + headHeight + heights[0] >= bottom) pdf.addPage(); // never a header alone
      let y = pdf.y + headHeight;
      let n = i;
      do y += heights[n++];
      while (n < rows.length && y + heights[n] < bottom);
      pdf.table({ ...style, data: [head, ...rows.slice(i, n)] });
      i = n;
    }
  }
  pdf.moveDown(1);
  pdf.font('Helvetica').fontSize(9).fillColor('#333333').text(t.footer, pdf.page.margins.left, pdf.y, { width });
  const range = pdf.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    pdf.switchToPage(range.start + i);
    const y = pdf.page.height - pdf.page.margins.bottom + 18;
    pdf.page.margins.bottom = 0; // the footer sits in the margin: no page break for it
    pdf.font('Helvetica').fontSize(8).fillColor('#555555').text(`${t.title} — ${printedSsin(doc.ssin)} — ${t.page(i + 1, range.count)}`, pdf.page.margins.left, y, { width, align: 'center', lineBreak: false });
  }
  pdf.end();
  return done;
}
