// The `notify` command's definition: its module (and what that loads) is imported when it runs.
import type { Command, Option } from 'commander';

/** Registers `notify` and its subcommands on the program (cli/main.ts). */
export function registerNotify(p: Command, configOpt: () => Option): void {
  const notify = p.command('notify').description('LivingWagesNotifications: signed notification files for new rights events, and subscriptions');
  notify
    .command('run', { isDefault: true })
    .description('plan new rights events and publish a signed notification file per subscribed, integrated institution')
    .option('--baseline', 'mark every not yet planned event as handled without notifying anyone (after loading history)')
    .option('--json', 'machine-readable summary')
    .addOption(configOpt())
    .action(async (o: { baseline?: boolean; json?: boolean; config?: string }) => (await import('./notify.js')).runNotify(o));
  notify
    .command('subscribe')
    .description('subscribe a client to LivingWagesNotifications')
    .argument('<client>', 'client id')
    .option('--quality-codes <codes>', 'quality codes that count, e.g. "1 2" (default: those of its LivingWages authorizations)')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (client: string, o: { qualityCodes?: string; json?: boolean; config?: string }) => (await import('./notify.js')).runNotifySubscribe(client, o));
  notify
    .command('unsubscribe')
    .description('end a client\'s subscription (already planned notifications are still sent)')
    .argument('<client>', 'client id')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (client: string, o: { json?: boolean; config?: string }) => (await import('./notify.js')).runNotifyUnsubscribe(client, o));
  notify
    .command('status')
    .description('subscribers and the notification outbox')
    .option('--json', 'machine-readable')
    .addOption(configOpt())
    .action(async (o: { json?: boolean; config?: string }) => (await import('./notify.js')).runNotifyStatus(o));
}
