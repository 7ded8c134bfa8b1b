import type { Db } from './db.js';
import { SERVICES, type Authorization, type Client, type ServiceName } from '../interfaces.js';

interface ClientRow { client_id: string; cbe_number: string; sector: number; name: string }
interface AuthRow { client_id: string; service: string; legal_context: string; quality_codes: string; deliberation: string | null; fields: string }

const splitList = (s: string): string[] => s.split(/\s+/).filter((x) => x.length > 0);

/** Every client with its authorizations, from the store. */
export async function loadClients(db: Db): Promise<Client[]> {
  const clients: ClientRow[] = await db('clients').select('*').orderBy('client_id');
  const auths: AuthRow[] = await db('authorizations').select('*').orderBy(['client_id', 'service', 'legal_context']);
  const byClient = new Map<string, Authorization[]>();
  for (const a of auths) {
    if (!(SERVICES as readonly string[]).includes(a.service)) continue; // e.g. notification subscriptions: not a request service
    const list = byClient.get(a.client_id) ?? [];
    list.push({
      service: a.service as ServiceName,
      legalContext: a.legal_context,
      qualityCodes: splitList(a.quality_codes).map(Number),
      deliberation: a.deliberation,
      fields: splitList(a.fields),
    });
    byClient.set(a.client_id, list);
  }
  return clients.map((c) => ({
    clientId: c.client_id,
    cbeNumber: c.cbe_number,
    sector: Number(c.sector),
    name: c.name,
    authorizations: byClient.get(c.client_id) ?? [],
  }));
}

/** Inserts or replaces clients and their authorizations (config-declared clients go through here too). */
export async function upsertClients(db: Db, clients: readonly Client[]): Promise<void> {
  await db.transaction(async (trx) => {
    for (const c of clients) {
      await trx('clients')
        .insert({ client_id: c.clientId, cbe_number: c.cbeNumber, sector: c.sector, name: c.name })
        .onConflict('client_id')
        .merge();
      for (const a of c.authorizations) {
        await trx('authorizations')
          .insert({
            client_id: c.clientId,
            service: a.service,
            legal_context: a.legalContext,
            quality_codes: a.qualityCodes.join(' '),
            deliberation: a.deliberation,
            fields: a.fields.join(' '),
          })
          .onConflict(['client_id', 'service', 'legal_context'])
          .merge();
      }
    }
  });
}
