// `demo`: a whole instance in one folder — init, synthetic data through the real import, sample
// requests dropped into the client spools, one poll, every response verified.
import { lstat, readdir, rm, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LdmError } from '../../errors.js';
import { initInstance } from './init.js';
import { openApp } from '../context.js';
import { importCsv } from '../../import/importCsv.js';
import { generateDataset, rng, DEMO_CLIENTS } from '../../generate/dataset.js';
import { readOcmwList } from '../../generate/ocmwList.js';
import { sampleLines, writeRequestFile } from '../../generate/requests.js';
import { HANDISERVICE_CLIENT, handiserviceLines } from '../../generate/handiservice.js';
import { pollOnce } from '../../pipeline/runOnce.js';
import { loadClients } from '../../store/clients.js';
import { verifyResponse } from '../../response/verify.js';
import { responseFileName } from '../../response/writer.js';
import { openTransport } from '../../spool/open.js';
import { createLogger, silentLogger } from '../../log/logger.js';
import { print, printJson } from '../output.js';
import { spoolContext } from './runOnce.js';
import { readFile } from 'node:fs/promises';

const DEMO_DATE = '2026-01-15';

/** Written by demo into the folder it creates: only a folder holding it is ever deleted by demo. */
export const DEMO_MARKER = '.ldm-batch-demo';

/**
 * Makes `dir` an empty demo folder. A folder that does not exist or is empty is used; one that
 * demo marked is deleted and recreated; anything else (an instance, a home folder, a file, a
 * link) is refused: demo never deletes what it did not create.
 */
async function prepareDemoDir(dir: string): Promise<void> {
  const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (st) {
    const refuse = (why: string): never => {
      throw new LdmError('DEMO_DIR_IN_USE', `${dir} ${why}; demo only replaces a folder it created (one holding ${DEMO_MARKER}). Choose a new or empty folder with --dir`, {
        exitCode: 2,
      });
    };
    if (st.isSymbolicLink()) refuse('is a symbolic link');
    if (!st.isDirectory()) refuse('is not a folder');
    const entries = await readdir(dir);
    if (entries.length > 0) {
      const marker = await lstat(join(dir, DEMO_MARKER)).catch(() => undefined);
      if (!marker?.isFile()) refuse(`is not empty and was not made by demo`);
      await rm(dir, { recursive: true, force: true });
    }
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, DEMO_MARKER), 'made by `ldm-batch demo`: the next `ldm-batch demo` in this folder deletes and recreates it\n');
}

export async function runDemo(o: { dir: string; json?: boolean }): Promise<void> {
  const dir = resolve(o.dir);
  await prepareDemoDir(dir);
  const { configFile } = await initInstance(dir, { quiet: true });
  const app = await openApp(configFile);
  const say = o.json ? (_: string) => undefined : print;
  try {
    say(`demo instance in ${dir}`);
    const ds = await generateDataset({ out: join(dir, 'data', 'generated'), persons: 400, seed: 1, referenceDate: DEMO_DATE, ocmws: await readOcmwList() });
    for (const kind of ['clients', 'persons', 'repertory', 'amounts', 'rights', 'handicap_recognitions', 'handicap_rights', 'handicap_payments', 'social_cards'] as const) {
      const r = await importCsv(app.db, kind, ds.files[kind]);
      say(`imported ${String(r.rows).padStart(6)} ${kind}`);
    }
    app.clients = await loadClients(app.db);
    const transport = openTransport(app.config, silentLogger);
    const r = rng(7);
    const createdAt = `${DEMO_DATE}T03:00:00Z`;
    for (const [i, c] of DEMO_CLIENTS.entries()) {
      await transport.ensureFolders(c.clientId);
      const name = `${c.clientId.toUpperCase()}-2026-00000${i + 1}.xml`;
      await writeRequestFile(
        join(app.config.spool.root, c.clientId, 'in', name),
        { fileId: name.replace(/\.xml$/, ''), senderCbe: c.cbeNumber, service: c.service, legalContext: c.legalContext, environment: 'PROD', createdAt },
        sampleLines(ds.persons, r, 60, 2026),
      );
    }
    // Handiservice (contract §6c): an OCMW's social inquiry, general and reopened (less data).
    const hs = HANDISERVICE_CLIENT;
    await transport.ensureFolders(hs.clientId);
    const current = ds.persons.filter((p) => p.replacedBy === null).map((p) => p.ssin);
    for (const [i, a] of hs.authorizations.entries()) {
      const name = `GENT-HS-2026-00000${i + 1}.xml`;
      await writeRequestFile(
        join(app.config.spool.root, hs.clientId, 'in', name),
        { fileId: name.replace(/\.xml$/, ''), senderCbe: hs.cbeNumber, service: 'Handiservice', legalContext: a.legalContext, environment: 'PROD', createdAt },
        handiserviceLines(current, r, 40, DEMO_DATE),
      );
    }
    // One broken file, to show a rejection: the trailer announces one line too many.
    const bad = DEMO_CLIENTS[2];
    await writeRequestFile(
      join(app.config.spool.root, bad.clientId, 'in', 'VLA-2026-BROKEN.xml'),
      { fileId: 'VLA-2026-BROKEN', senderCbe: bad.cbeNumber, service: bad.service, legalContext: bad.legalContext, environment: 'PROD', createdAt },
      sampleLines(ds.persons, r, 5, 2026),
      { recordCount: 6 },
    );
    await transport.close();

    const log = process.env.LDM_BATCH_LOG_LEVEL ? createLogger({ base: { instance: app.config.instanceId } }) : silentLogger;
    const ctx = await spoolContext(app, log, DEMO_DATE);
    const summary = await pollOnce(ctx, app.clients, { minAgeMs: 0 });
    await ctx.transport.close();
    for (const f of summary.failures) say(`  spool of ${f.client} could not be read: ${f.error}`);
    if (summary.failures.length > 0) process.exitCode = 1;
    const cert = await readFile(app.config.signing.certFile, 'utf8');
    const results = [];
    for (const f of summary.files) {
      const response = join(app.config.spool.root, f.client, 'out', responseFileName(f.file));
      const v = await verifyResponse(response, { trustedCertPem: cert });
      results.push({ ...f, response, signature: v.ok ? 'valid' : `INVALID: ${v.reason}` });
    }
    if (o.json) {
      printJson({ dir, config: configFile, referenceDate: DEMO_DATE, certificate: app.config.signing.certFile, files: results });
    } else {
      say(`processed with reference date ${DEMO_DATE}:`);
      for (const x of results) say(`  ${x.client}/in/${x.file}: ${x.outcome}\n    → ${x.response} (signature ${x.signature})`);
      say('');
      say(`check a response yourself:`);
      say(`  xmlsec1 --verify --trusted-pem ${app.config.signing.certFile} ${results[0]?.response ?? ''}`);
      say(`  ./bin/ldm-batch.js verify --config ${configFile} ${results[0]?.response ?? ''}`);
      say(`  ./bin/ldm-batch.js batches list --config ${configFile}`);
    }
    if (results.some((x) => x.signature !== 'valid' || x.outcome === 'FAILED')) process.exitCode = 1;
  } finally {
    await app.close();
  }
}
