// The `extract` command's definition: its module (and what that loads) is imported when it runs.
import type { Command, Option } from 'commander';

/** Registers `extract` and its subcommands on the program (cli/main.ts). */
export function registerExtract(p: Command, configOpt: () => Option): void {
  const extract = p
    .command('extract')
    .description('scheduled extracts (contract §6d): one signed out/EXTRACT-<client>-<year>.xml per configured client and year');
  extract
    .command('run', { isDefault: true })
    .description('run the configured extracts now (the daemon runs each on its own schedule); an extract already written for that client and year is not written again')
    .option('--client <id>', 'only this client\'s extract (as configured in "extracts")')
    .option('--year <YYYY>', 'the year to extract (default: the year before the reference date, period "previous-year")')
    .option('--as-of <date>', 'reference date YYYY-MM-DD, not after today (default: today in the configured time zone); amounts not visible on it are left out')
    .option('--retry', 're-open an extract that was given up (EXTRACT_GIVEN_UP: its attempts used up) once its cause is fixed, and write it with the reference date and ProcessedAt of its original claim')
    .option('--json', 'machine-readable: {"extracts": [{client, year, outcome, file, records, batchId, ...}]}')
    .addOption(configOpt())
    .addHelpText(
      'after',
      `
Each extract holds one Response per person (seq 1..N in SSIN order) whom the client may see under
the finality rule for that year (an integration of its sector or CBE, a quality code of its
authorization, overlapping the year) and who has visible amounts in it, with the Year answer of a
BENEFICIARY line; the client's field profile applies, every line is audited. It runs under the
client's LivingWagesWithAmount authorization for the configured legalContext.

Outcomes: WRITTEN (now), ALREADY_WRITTEN (an extract is written once per client and year: nothing
done), IN_PROGRESS (another run holds it), REFUSED with a code: EXTRACT_NOT_AUTHORIZED (no such
authorization, or its fields exclude Year), EXTRACT_NO_FINALITY (no integration of the client for
that year at all), EXTRACT_YEAR_OPEN (the year has not ended by the reference date, exit 2),
EXTRACT_UNKNOWN_CLIENT (exit 2). A run that died is resumed with the same bytes. FAILED with a
code: an attempt met a fault on our side; it is retried after the config's "retry" backoff, and
given up after retry.maxAttempts attempts (EXTRACT_GIVEN_UP: nothing retries it until you fix the
cause and run again with --retry).

Exit codes: 0 every extract written, already written or in progress; 1 one was refused or failed;
2 bad usage or config.`,
    )
    .action(async (o: { client?: string; year?: string; asOf?: string; json?: boolean; config?: string; retry?: boolean }) => (await import('./extract.js')).runExtractRun(o));
  extract
    .command('list')
    .description('the extracts claimed or written, newest first')
    .option('--limit <n>', 'how many', '100')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (o: { json?: boolean; config?: string; limit?: string }) => (await import('./extract.js')).runExtractList(o));
}
