// LivingWagesWithAmount is answered from the read model only (README "The read model"): a resolver
// given none refuses with a code, instead of falling back to a second path through the store.
import { describe, expect, it } from 'vitest';
import { resolveAmounts } from '../../src/services/amounts/resolve.js';
import type { Db } from '../../src/store/db.js';
import type { Authorization, Client, RequestLine } from '../../src/interfaces.js';

describe('resolveAmounts', () => {
  it('refuses to answer without a read model', async () => {
    async function* lines(): AsyncGenerator<RequestLine[]> {
      yield [{ seq: 1, ticket: 't', ssin: '85073003328', period: { kind: 'year', year: 2025 } } as RequestLine];
    }
    const authorization = { service: 'LivingWagesWithAmount', legalContext: 'X', qualityCodes: [1], deliberation: null, fields: [] } as Authorization;
    const client = { clientId: 'c', cbeNumber: '0308357159', sector: 17, authorizations: [authorization] } as unknown as Client;
    const answers = resolveAmounts(lines(), { db: {} as Db, client, authorization, referenceDate: '2026-03-15' });
    await expect(answers.next()).rejects.toMatchObject({ code: 'READ_MODEL_MISSING' });
  });
});
