// The `ldm-batch` command line (contract §9). Exit codes: 0 success; 1 the work ran but something
// was rejected or failed; 2 bad usage or config.
import { Command, CommanderError, Option } from 'commander';
import { LdmError, errorMessage } from '../errors.js';
import { applyFileMode } from '../files/modes.js';
import { redact } from '../log/logger.js';
import { commandStarting } from './signals.js';
import { registerNotify } from './commands/notifyCommand.js';
import { registerExtract } from './commands/extractCommand.js';
import { quietOnClosedOutput } from './output.js';

/** commander's "error: unknown option '--x'\n(Did you mean --y?)" as one house-format line. */
export function usageLine(commanderText: string): string {
  const text = commanderText.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
  return `ldm-batch: ${text} (see "ldm-batch ${currentCommand ? `${currentCommand} ` : ''}--help") [USAGE]\n`;
}

/** The (sub)command words of argv that name commands, e.g. "batches list" (for the help pointer). */
function commandPath(root: Command, args: readonly string[]): string {
  const names: string[] = [];
  let cmd = root;
  for (const a of args) {
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    names.push(sub.name());
    cmd = sub;
  }
  return names.join(' ');
}

/** The command being parsed, for the help pointer of a usage error. */
let currentCommand = '';

// Each command's module is imported when the command runs, not before: `process` then loads what
// it uses and not, say, the PDF layout of `audit export` (loading every command took ~1.0 s of
// start-up in a slow spell of the bench machine where `process`'s own took ~0.35 s).
function program(): Command {
  const p = new Command('ldm-batch')
    .description('Answers batch (LDM) requests for living-wage data: spool → claim → validate → resolve → sign → deliver → journal.')
    .version('0.1.0')
    // Usage errors in the house format (`ldm-batch: <message> [USAGE]`, exit 2) with a pointer to
    // the command's help instead of the whole help text; subcommands inherit these settings.
    .configureOutput({ outputError: (str, write) => write(usageLine(str)) })
    .showSuggestionAfterError(true)
    .exitOverride()
    // The daemon and run-once stop cleanly on a signal, also one that came while they loaded (see signals.ts).
    .hook('preAction', (_root, action) => commandStarting(['daemon', 'run-once'].includes(action.name())));
  const configOpt = () => new Option('--config <file>', 'config file (default ./ldm-batch.config.json, or $LDM_BATCH_CONFIG)');

  p.command('init')
    .description('write a working default config, a development signing key + certificate, the spool folders and the SQLite database')
    .argument('[dir]', 'folder to initialize', '.')
    .option('--force', 'overwrite an existing config (an existing key is kept)')
    .option('--database <url>', 'a postgres:// URL instead of the embedded SQLite file')
    .action(async (dir: string, o: { force?: boolean; database?: string }) => (await import('./commands/init.js')).runInit(dir, o));

  p.command('demo')
    .description('one-shot on the embedded default: seed demo data, drop sample requests, process them, print where the signed responses are')
    .option('--dir <dir>', 'folder for the demo instance: new or empty, or made by an earlier demo (then recreated); any other folder is refused', './demo')
    .option('--json', 'machine-readable summary')
    .action(async (o: { dir: string; json?: boolean }) => (await import('./commands/demo.js')).runDemo(o));

  p.command('process')
    .description('process one local request file and write its signed response (exit 1 when it wrote a rejection)')
    .argument('<request>', 'request file (.xml)')
    .option('-o, --output <file>', 'response file (default: <request>.response.xml beside the request)')
    .option('--client <id>', 'treat the file as arriving in this client\'s in/ folder (a sender CBE of another client is then SENDER_MISMATCH)')
    .option('--as-of <date>', 'reference date YYYY-MM-DD, not after today (default: today in the configured time zone)')
    .option('--force', 'replace the response file if it exists (refused otherwise)')
    .option('--json', 'machine-readable result')
    .addOption(configOpt())
    .action(async (request: string, o: { output?: string; client?: string; asOf?: string; force?: boolean; json?: boolean; config?: string }) => (await import('./commands/process.js')).runProcess(request, o));

  p.command('check')
    .description('before enabling the daemon: config, signing key and certificate, database reachable and migrated, reference data, spool reachable (SFTP host key pin and login), every client\'s four folders; one line per check, exit 0 only when all pass')
    .option('--json', 'machine-readable: {"ok": bool, "checks": [{name, status, detail, code}]}')
    .addOption(configOpt())
    .action(async (o: { json?: boolean; config?: string }) => (await import('./commands/check.js')).runCheck(o));

  p.command('run-once')
    .description('one poll of every client spool, then exit (exit 1 when a file was rejected or failed)')
    .option('--as-of <date>', 'reference date YYYY-MM-DD for the files of this poll')
    .option('--json', 'machine-readable summary')
    .addOption(configOpt())
    .action(async (o: { asOf?: string; json?: boolean; config?: string }) => (await import('./commands/runOnce.js')).runRunOnce(o));

  p.command('daemon')
    .description('poll every spool on its cron schedule until SIGTERM/SIGINT, then stop cleanly')
    .option('--http-port <port>', 'serve /healthz and /metrics on this port (overrides http.port; 0 = any free port)')
    .addOption(configOpt())
    .action(async (o: { config?: string; httpPort?: string }) => (await import('./commands/daemon.js')).runDaemon(o));

  p.command('reprocess')
    .description('re-run a batch from its archived request, writing a new response')
    .argument('<batch>', 'batch id or FileId')
    .option('--as-of <date>', 'reference date YYYY-MM-DD (default: the batch\'s original reference date)')
    .option('--force', 'replace a response still waiting in out/')
    .option('--json', 'machine-readable result')
    .addOption(configOpt())
    .action(async (batch: string, o: { asOf?: string; force?: boolean; json?: boolean; config?: string }) => (await import('./commands/reprocess.js')).runReprocess(batch, o));

  const batches = p.command('batches').description('the batch journal');
  batches
    .command('list', { isDefault: true })
    .description('recent batches, newest first')
    .option('--client <id>', 'only this client')
    .option('--state <state>', 'only this state (CLAIMED, DONE, REJECTED, FAILED)')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (o: { client?: string; state?: string; limit: string; json?: boolean; config?: string }) => (await import('./commands/batches.js')).runBatchesList(o));
  batches
    .command('show')
    .description('one batch in full')
    .argument('<batch>', 'batch id or FileId')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (id: string, o: { json?: boolean; config?: string }) => (await import('./commands/batches.js')).runBatchesShow(id, o));

  p.command('import')
    .description('load a CSV file (contract §8, UTF-8); a file with any bad row changes nothing; prints the rows inserted, updated and left unchanged (importing the same file again changes nothing)')
    .argument('<kind>', 'clients | ocmws | persons | repertory | amounts | rights | handicap_recognitions | handicap_rights | handicap_payments | social_cards')
    .argument('<file>', 'CSV file with the header row of its kind')
    .option('--json', 'machine-readable result')
    .addOption(configOpt())
    .action(async (kind: string, file: string, o: { json?: boolean; config?: string }) => (await import('./commands/import.js')).runImport(kind, file, o));

  p.command('verify')
    .description('check a response file\'s XML signature (for receiving institutions)')
    .argument('<response>', 'response file')
    .option('--cert <file>', 'trusted signer certificate (PEM); default: the configured signing certificate. Exit 0 only when the file was signed with it, while it was valid (at ProcessedAt)')
    .option('--integrity-only', 'check only that the file is unchanged since it was signed, by whoever signed it (says trusted: false)')
    .option('--json', 'machine-readable result')
    .addOption(configOpt())
    .addHelpText('after', '\nExit codes: 0 valid and signed by the trusted certificate (or intact, with --integrity-only); 1 invalid; 2 no trusted certificate given or configured, or bad usage.')
    .action(async (response: string, o: { cert?: string; json?: boolean; config?: string; integrityOnly?: boolean }) => (await import('./commands/verify.js')).runVerify(response, o));

  const audit = p
    .command('audit')
    .description('who consulted this person, when, why (answered batches only)')
    .option('--ssin <ssin>', 'national or BIS number')
    .option('--since <when>', 'YYYY-MM-DD or 30d, 2w, 6m, 1y (default 6m)')
    .option('--json', 'an array, for a citizen portal')
    .addOption(configOpt())
    .action(async (o: { ssin?: string; since?: string; json?: boolean; config?: string }) => (await import('./commands/audit.js')).runAudit(o));
  audit
    .command('purge')
    .description('delete audit entries consulted before a date or older than a retention period')
    .option('--before <date>', 'YYYY-MM-DD')
    .option('--retention <duration>', 'e.g. 10y, 18m')
    // --json/--config are parsed by the parent even after "purge"
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ before?: string; retention?: string; json?: boolean; config?: string }>();
      return (await import('./commands/audit.js')).runAuditPurge({ before: o.before, retention: o.retention, json: o.json, config: o.config });
    });
  audit
    .command('export')
    .description("the citizen's view: every consultation of this person's data in a period (when, institution and CBE, service, legal context, deliberation) as a printable PDF, or JSON")
    .option('--months <n>', 'how far back (default: audit.onlineMonths, 12)')
    .option('--lang <lang>', 'nl, fr or en (default nl)')
    .option('-o, --output <file>', 'where to write (mode 0600; default ./consultations-<date>-<lang>.pdf; with --json default stdout)')
    .option('--force', 'replace an existing output file')
    .addHelpText('after', '\nAlso: --ssin <ssin> (required), --json (the document as JSON instead of a PDF), --config <file>.\nExample: ldm-batch audit export --ssin 85073003328 --lang fr -o consultations.pdf\nThe document shows the SSIN in full: it is made for the person it is about. It never lists another person.')
    // --ssin/--json/--config are parsed by the parent even after "export"
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ ssin?: string; months?: string; lang?: string; output?: string; force?: boolean; json?: boolean; config?: string }>();
      return (await import('./commands/audit.js')).runAuditExport(o);
    });

  const snapshot = p.command('snapshot').description('the read model of the store: the file batches read persons, repertory and amounts from (built after every import)');
  snapshot
    .command('rebuild')
    .description('build the read model of the current store version now (published by atomic rename) and remove versions no unfinished batch needs')
    .option('--json', 'machine-readable result (version, path, bytes, seconds, counts)')
    .addOption(configOpt())
    .action(async (o: { json?: boolean; config?: string }) => (await import('./commands/snapshot.js')).runSnapshotRebuild(o));
  snapshot
    .command('show')
    .description('the store version and the read model files on disk')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (o: { json?: boolean; config?: string }) => (await import('./commands/snapshot.js')).runSnapshotShow(o));

  const repertory = p.command('repertory').description('the repertory as a managed register (like KSZ ManageAccess)');
  repertory
    .command('register')
    .description("register an integration (idempotent); without --end the quality code's default duration applies")
    .requiredOption('--ssin <ssin>', 'national or BIS number')
    .requiredOption('--sector <n>', 'sector code')
    .option('--institution <cbe>', "the institution's CBE number (an institution-level integration); omit it for a sector-level integration, which counts for every client of the sector")
    .requiredOption('--quality-code <code>', 'e.g. 001')
    .requiredOption('--start <date>', 'first day YYYY-MM-DD')
    .option('--end <date>', 'last day YYYY-MM-DD')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (o: { ssin: string; sector: string; institution?: string; qualityCode: string; start: string; end?: string; json?: boolean; config?: string }) =>
      (await import('./commands/repertory.js')).runRepertoryRegister(o),
    );
  repertory
    .command('unregister')
    .description('end the integrations at --end (history is kept)')
    .requiredOption('--ssin <ssin>', 'national or BIS number')
    .requiredOption('--sector <n>', 'sector code')
    .option('--institution <cbe>', "the institution's CBE number (an institution-level integration); omit it for a sector-level integration, which counts for every client of the sector")
    .requiredOption('--quality-code <code>', 'e.g. 001')
    .requiredOption('--end <date>', 'last covered day YYYY-MM-DD')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (o: { ssin: string; sector: string; institution?: string; qualityCode: string; end: string; json?: boolean; config?: string }) => (await import('./commands/repertory.js')).runRepertoryUnregister(o));

  registerNotify(p, configOpt);
  registerExtract(p, configOpt);

  p.command('generate')
    .description('write a synthetic, realistic data set (CSV) and request files for demos, tests and benchmarks')
    .requiredOption('--out <dir>', 'output folder')
    .option('--persons <n>', 'number of persons', '200')
    .option('--lines <n>', 'lines in the large request file (0 = none)', '0')
    .option('--seed <n>', 'random seed (same seed, same data)', '1')
    .option('--reference-date <date>', 'data runs up to this date', '2026-01-15')
    .action(async (o: { out: string; persons: string; lines: string; seed: string; referenceDate: string }) => (await import('./commands/generate.js')).runGenerate(o));

  return p;
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedOutput();
  // Personal data at rest: files this process creates are private unless the config says 0640.
  applyFileMode(0o600);
  const p = program();
  currentCommand = commandPath(p, argv.slice(2));
  try {
    await p.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    const coded = err instanceof LdmError ? err : (await import('../store/db.js')).databaseFault(err);
    if (coded) {
      process.stderr.write(`ldm-batch: ${redact(coded.message)} [${coded.code}]\n`);
      return coded.exitCode;
    }
    process.stderr.write(`ldm-batch: unexpected error: ${redact(errorMessage(err))}\n`);
    if (process.env.LDM_BATCH_DEBUG) process.stderr.write(`${redact((err as Error).stack ?? '')}\n`);
    return 1;
  }
}
