#!/usr/bin/env node
// Regenerates the example files of docs/institutions/examples/ with the real CLI: a throw-away
// instance with a documentation signing key (10 years; the key is deleted, only its certificate is
// kept), a small synthetic register, then `process`, `notify` and `extract` as in production.
// test/docs/examples.test.ts checks what this writes (requests validate, responses verify).
// Usage: npx tsc -p tsconfig.json && node scripts/docs-examples.mjs
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(repo, 'docs', 'institutions', 'examples');
const cli = join(repo, 'bin', 'ldm-batch.js');
const dir = mkdtempSync(join(tmpdir(), 'ldm-docs-'));
const env = { ...process.env, LDM_BATCH_NOTIFY_ON_IMPORT: '0', LDM_BATCH_LOG_LEVEL: 'error' };
const run = (args, ok = [0]) => {
  try {
    return execFileSync(process.execPath, [cli, ...args, '--config', join(dir, 'ldm-batch.config.json')], { env, encoding: 'utf8' });
  } catch (err) {
    if (!ok.includes(err.status)) throw err;
    return err.stdout;
  }
};
const csv = (name, text) => {
  writeFileSync(join(dir, name), text.trim() + '\n');
  return join(dir, name);
};
// A national number born before 2000: check digits 97 − (first nine mod 97).
const ssin = (nine) => nine + String(97 - (Number(nine) % 97)).padStart(2, '0');

execFileSync(process.execPath, [cli, 'init', dir], { env });
rmSync(join(dir, 'keys'), { recursive: true });
execFileSync('mkdir', ['-m', '700', join(dir, 'keys')]);
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', '/CN=ldm-batch documentation example signer/O=POD MI (example)',
  '-keyout', join(dir, 'keys', 'signing-key.pem'), '-out', join(dir, 'keys', 'signing-cert.pem')], { stdio: 'ignore' });
chmodSync(join(dir, 'keys', 'signing-key.pem'), 0o600);
// ProcessedAt (whole seconds) must not fall before the certificate's notBefore.
await new Promise((r) => setTimeout(r, 1100));

const alice = ssin('850730033'); // amounts, integrated
const bob = ssin('900201123'); // her partner
const carol = ssin('750512210'); // integrated, nothing paid
const dave = ssin('920115007'); // not integrated for the sender
const old = ssin('600101001'); // replaced by `alice`
const unknown = ssin('880808123'); // not in the register
const hank = ssin('700315150'); // amounts in 2025 (the extract)
const erin = ssin('810422284'); // Handiservice: integrated by the OCMW and at the DG PMH, with data
const frank = ssin('770909143'); // Handiservice: integrated on both sides, nothing in the period
const grace = ssin('680614072'); // Handiservice: integrated by the OCMW, not at the DG PMH
const fin = { id: 'fin', cbe: '0308357159' };
const ocmw = '0212000032'; // an OCMW: it paid the amounts, and asks Handiservice as a client

const files = {
  clients: csv('clients.csv', `
client_id,cbe_number,sector,name,service,legal_context,quality_codes,deliberation,fields
fin,${fin.cbe},17,FOD Financiën,LivingWagesWithAmount,FPS_FINANCE:TAX_ASSESSMENT,1 2,IVC/KSZG/23/123,
fin,${fin.cbe},17,FOD Financiën,LivingWages,FPS_FINANCE:TAX_ASSESSMENT,1 2,IVC/KSZG/23/123,
fin,${fin.cbe},17,FOD Financiën,LivingWagesNotifications,FPS_FINANCE:TAX_ASSESSMENT,1 2,IVC/KSZG/23/123,
ocmw,${ocmw},17,OCMW (example),Handiservice,PCSA:SOCIAL_INQUIRY,1 2,21/016,handiservice:general`),
  persons: csv('persons.csv', `
ssin,replaced_by
${alice},
${bob},
${carol},
${dave},
${old},${alice}
${hank},
${erin},
${frank},
${grace},`),
  repertory: csv('repertory.csv', `
ssin,sector,institution_cbe,quality_code,start_date,end_date
${alice},17,${fin.cbe},1,2020-01-01,
${bob},17,${fin.cbe},1,2020-01-01,
${carol},17,${fin.cbe},2,2024-01-01,
${hank},17,,1,2019-05-01,
${erin},17,${ocmw},1,2025-03-01,
${erin},16,,1,2019-04-01,
${frank},17,${ocmw},2,2025-09-01,
${frank},16,,3,2024-01-01,
${grace},17,${ocmw},1,2025-06-01,`),
  amounts: csv('amounts.csv', `
ssin,partner_ssin,ocmw_cbe,benefit_type,category,month,grant_from,grant_to,amount_cents,paid_on,status
${alice},${bob},${ocmw},LEEFLOON,COHABITANT,2025-01,2025-01-01,2025-01-31,87654,2025-01-05,DEFINITIVE
${alice},${bob},${ocmw},LEEFLOON,COHABITANT,2025-02,2025-02-01,2025-02-28,87654,2025-02-05,DEFINITIVE
${alice},${bob},${ocmw},LEEFLOON,COHABITANT,2025-03,2025-03-10,2025-03-31,61800,2025-03-05,PROVISIONAL
${hank},,${ocmw},EQUIVALENT_LEEFLOON,ISOLATED,2025-11,2025-11-01,2025-11-30,130500,2025-11-05,DEFINITIVE
${hank},,${ocmw},EQUIVALENT_LEEFLOON,ISOLATED,2025-12,2025-12-01,2025-12-31,130500,2025-12-05,PROVISIONAL`),
  rights: csv('rights.csv', `
right_id,version,ssin,ocmw_cbe,right_type,start_date,end_date,event,decided_on
R-2025-0001,1,${alice},${ocmw},LEEFLOON,2025-01-01,,CREATED,2025-01-03
R-2025-0002,1,${carol},${ocmw},EQUIVALENT_LEEFLOON,2024-06-01,2025-05-31,CREATED,2024-05-20
R-2025-0002,2,${carol},${ocmw},EQUIVALENT_LEEFLOON,2024-06-01,2025-02-28,MODIFIED,2025-02-10`),
  // Handiservice (DG Personen met een handicap): erin's file, one pending recognition, nothing for frank.
  handicap_recognitions: csv('handicap_recognitions.csv', `
recognition_id,ssin,legislation,request_date,status,decision_date,start_date,end_date,points,earning_capacity_reduced,lower_limbs_50,full_blindness,upper_limbs_amputated,upper_limbs_paralysed
REC-2019-0417,${erin},IT,2019-03-01,DECIDED,2019-06-12,2019-04-01,,9,true,false,false,false,false
REC-2025-1022,${erin},THAB,2025-09-15,PENDING,,,,,,,,,`),
  handicap_rights: csv('handicap_rights.csv', `
right_id,ssin,legislation,category,start_date,end_date,monthly_amount_cents,partner_income
HR-2019-0311,${erin},IT,CAT2,2019-04-01,,104500,false`),
  handicap_payments: csv('handicap_payments.csv', `
ssin,month,legislation,amount_cents,suspended_cents
${erin},2025-11,IT,104500,0
${erin},2025-12,IT,94500,10000`),
  social_cards: csv('social_cards.csv', `
card_number,ssin,type,delivered_on,end_date
PK-0415-2021,${erin},PARKING,2021-06-01,2031-05-31`),
};
for (const kind of Object.keys(files)) run(['import', kind, files[kind]]);

const request = (fileId, service, lines, count = lines.length, { cbe = fin.cbe, legalContext = 'FPS_FINANCE:TAX_ASSESSMENT' } = {}) => `<?xml version="1.0" encoding="UTF-8"?>
<BatchRequest xmlns="urn:ldm-batch:v1">
  <Header>
    <FileId>${fileId}</FileId>
    <Sender><CbeNumber>${cbe}</CbeNumber></Sender>
    <Service>${service}</Service>
    <LegalContext>${legalContext}</LegalContext>
    <Environment>PROD</Environment>
    <CreatedAt>2026-01-15T03:00:00Z</CreatedAt>
  </Header>
  <Requests>
${lines.map((l, i) => `    <Request seq="${i + 1}">\n${l}\n    </Request>`).join('\n')}
  </Requests>
  <Trailer><RecordCount>${count}</RecordCount></Trailer>
</BatchRequest>
`;
const line = (s, period, { role, ticket } = {}) =>
  [ticket && `      <Ticket>${ticket}</Ticket>`, `      <Ssin>${s}</Ssin>`, role && `      <Role>${role}</Role>`, `      <Period>${period}</Period>`].filter(Boolean).join('\n');
const months = (f, t) => `<Months><From>${f}</From><To>${t}</To></Months>`;
const dates = (f, t) => `<Dates><From>${f}</From><To>${t}</To></Dates>`;

const examples = {
  'amounts-request.xml': request('FIN-2026-000001', 'LivingWagesWithAmount', [
    line(alice, '<Year>2025</Year>', { role: 'BENEFICIARY', ticket: 'client-ref-0001' }),
    line(alice, months('2025-01', '2025-06'), { role: 'BENEFICIARY' }),
    line(bob, months('2025-01', '2025-03'), { role: 'PARTNER', ticket: 'client-ref-0003' }),
    line(carol, months('2025-01', '2025-06'), { role: 'BENEFICIARY' }),
    line(unknown, months('2025-01', '2025-06'), { role: 'BENEFICIARY' }),
    line(old, months('2025-01', '2025-06'), { role: 'BENEFICIARY' }),
    line(alice, months('2025-06', '2025-01'), { role: 'BENEFICIARY' }),
    line('85073003300', months('2025-01', '2025-06'), { role: 'BENEFICIARY' }),
    line(dave, months('2025-01', '2025-06'), { role: 'BENEFICIARY' }),
  ]),
  'rights-request.xml': request('FIN-2026-000002', 'LivingWages', [
    line(alice, dates('2025-01-01', '2025-12-31'), { ticket: 'dossier 42/2026' }),
    line(carol, dates('2025-01-01', '2025-12-31')),
  ]),
  'rejected-request.xml': request('FIN-2026-000003', 'LivingWagesWithAmount', [line(alice, '<Year>2025</Year>', { role: 'BENEFICIARY' })], 2),
  // An OCMW's social inquiry: data (MSG00000), a period of more than one year (MSG00008), a person
  // the OCMW has not integrated (MSG00012), one not integrated at the DG PMH (MSG00021), one with
  // nothing in the period (MSG00100).
  'handiservice-request.xml': request('OCMW-2026-000017', 'Handiservice', [
    line(erin, dates('2025-07-01', '2025-12-31'), { ticket: 'inquiry 2026/0117' }),
    line(erin, dates('2025-01-01', '2026-01-01')),
    line(dave, dates('2025-07-01', '2025-12-31')),
    line(grace, dates('2025-07-01', '2025-12-31')),
    line(frank, dates('2025-07-01', '2025-12-31')),
  ], undefined, { cbe: ocmw, legalContext: 'PCSA:SOCIAL_INQUIRY' }),
};
const clientOf = { 'handiservice-request.xml': 'ocmw' };
for (const [name, text] of Object.entries(examples)) {
  writeFileSync(join(out, name), text);
  const response = join(out, name.replace(/-request\.xml$/, '-response.xml'));
  rmSync(response, { force: true });
  run(['process', join(out, name), '-o', response, '--client', clientOf[name] ?? 'fin', '--as-of', '2026-01-15'], [0, 1]);
}
// A notification: the rights imported above are events for the subscribed institution.
run(['notify', 'subscribe', 'fin']);
run(['notify', 'run']);
const outDir = join(dir, 'spool', 'fin', 'out');
const notif = readdirSync(outDir).find((n) => n.endsWith('.notification.xml'));
copyFileSync(join(outDir, notif), join(out, 'notification.xml'));
// A scheduled extract (the yearly push) of 2025 for fin, as the daemon writes it on its schedule.
const configFile = join(dir, 'ldm-batch.config.json');
const config = JSON.parse(readFileSync(configFile, 'utf8'));
writeFileSync(configFile, JSON.stringify({ ...config, extracts: [{ clientId: 'fin', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', schedule: '0 3 15 1 *' }] }, null, 2));
run(['extract', 'run', '--client', 'fin', '--year', '2025', '--as-of', '2026-01-15']);
copyFileSync(join(outDir, 'EXTRACT-fin-2025.xml'), join(out, 'EXTRACT-fin-2025.xml'));
copyFileSync(join(dir, 'keys', 'signing-cert.pem'), join(out, 'example-signer-cert.pem'));
rmSync(dir, { recursive: true, force: true });
console.log(`examples written to ${out}`);
