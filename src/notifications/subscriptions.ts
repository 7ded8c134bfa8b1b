// Who asked for LivingWagesNotifications (contract §6b), and with which quality codes.
//
// Two ways to subscribe, merged per client:
// - `ldm-batch notify subscribe <client> [--quality-codes "1 2"]` (table notification_subscriptions);
//   without quality codes, those of the client's LivingWages authorizations count;
// - an authorizations row with service `LivingWagesNotifications` (clients.csv / config), whose
//   quality_codes count — once the clients import accepts that service name.
// The quality codes decide which integrations make an institution a recipient (finality).
import type { Db } from '../store/db.js';
import { LdmError } from '../errors.js';
import { SUBSCRIPTIONS_TABLE } from '../store/rightsMigration.js';
import type { Subscriber } from '../services/rights/rules.js';

export const NOTIFICATION_SERVICE = 'LivingWagesNotifications';

const splitCodes = (s: string): number[] => s.split(/\s+/).filter((x) => x.length > 0).map(Number);

interface ClientRow {
  client_id: string;
  cbe_number: string;
  sector: number | string;
}

/** Every subscribed client with its effective quality codes; sorted by client id. */
export async function loadSubscribers(db: Db): Promise<Subscriber[]> {
  const subs: { client_id: string; quality_codes: string }[] = await db(SUBSCRIPTIONS_TABLE).select('client_id', 'quality_codes');
  const auths: { client_id: string; service: string; quality_codes: string }[] = await db('authorizations')
    .select('client_id', 'service', 'quality_codes')
    .whereIn('service', ['LivingWages', NOTIFICATION_SERVICE]);
  const codes = new Map<string, Set<number>>();
  const add = (clientId: string, list: number[]): void => {
    const set = codes.get(clientId) ?? new Set<number>();
    for (const c of list) set.add(c);
    codes.set(clientId, set);
  };
  for (const s of subs) {
    if (s.quality_codes.trim() !== '') add(s.client_id, splitCodes(s.quality_codes));
    else add(s.client_id, auths.filter((a) => a.client_id === s.client_id && a.service === 'LivingWages').flatMap((a) => splitCodes(a.quality_codes)));
  }
  for (const a of auths) if (a.service === NOTIFICATION_SERVICE) add(a.client_id, splitCodes(a.quality_codes));
  if (codes.size === 0) return [];
  const clients: ClientRow[] = await db('clients').select('client_id', 'cbe_number', 'sector').whereIn('client_id', [...codes.keys()]);
  return clients
    .map((c) => ({ clientId: c.client_id, cbeNumber: c.cbe_number, sector: Number(c.sector), qualityCodes: [...(codes.get(c.client_id) ?? [])].sort((x, y) => x - y) }))
    .sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
}

/** Subscribes (or updates the quality codes of) a known client. */
export async function subscribe(db: Db, clientId: string, qualityCodes: readonly number[], now: string): Promise<void> {
  const known = await db('clients').where('client_id', clientId).first('client_id');
  if (known === undefined) throw new LdmError('UNKNOWN_CLIENT', `client ${clientId} is not known; import clients first`, { exitCode: 2 });
  await db(SUBSCRIPTIONS_TABLE)
    .insert({ client_id: clientId, quality_codes: [...new Set(qualityCodes)].join(' '), created_at: now })
    .onConflict('client_id')
    .merge(['quality_codes']);
}

/** Ends a table subscription; events already planned for the client are still delivered. */
export async function unsubscribe(db: Db, clientId: string): Promise<boolean> {
  return (await db(SUBSCRIPTIONS_TABLE).where('client_id', clientId).delete()) > 0;
}
