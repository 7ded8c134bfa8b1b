// Resolves Handiservice lines (contract §6c): per chunk of lines, the register and the sender's
// integrations (one lookup), the person's sector-16 integrations (one), then the pure rules
// decide each line, and the DG PMH data of the lines that pass both checks are looked up (four
// statements per chunk). Answered from the store, not the read model (see README, Handiservice).
import type { Db } from '../../store/db.js';
import { KEYS_PER_QUERY } from '../../store/db.js';
import { lookupRegister } from '../../store/lookupRegister.js';
import { lookupHandicapRecords, lookupProviderIntegrations } from '../../store/handiservice/lookup.js';
import { chunked } from '../../pipeline/chunked.js';
import { isValidSsin, yearOf } from '../../domain/ssin.js';
import type { Authorization, Client, ProfiledResponseLine, RequestLine } from '../../interfaces.js';
import { AuditSink } from '../../audit/record.js';
import { decideHandiserviceLine, handicapData, type HandiserviceDecision } from './rules.js';
import { applyHandicapProfile } from './profile.js';

export interface HandiserviceContext {
  db: Db;
  client: Client;
  authorization: Authorization;
  referenceDate: string;
  /** When set, every line with a valid SSIN is logged (logging principle) before the response is signed. */
  audit?: { batchId: number; consultedAt: string };
}

export async function* resolveHandiservice(lines: AsyncIterable<RequestLine>, ctx: HandiserviceContext): AsyncGenerator<ProfiledResponseLine> {
  const year = yearOf(ctx.referenceDate);
  const sender = { cbeNumber: ctx.client.cbeNumber, allowedQualityCodes: ctx.authorization.qualityCodes };
  const audit = ctx.audit
    ? new AuditSink(ctx.db, {
        batchId: ctx.audit.batchId,
        clientId: ctx.client.clientId,
        service: 'Handiservice',
        legalContext: ctx.authorization.legalContext,
        deliberation: ctx.authorization.deliberation,
        consultedAt: ctx.audit.consultedAt,
      })
    : undefined;
  try {
    for await (const chunk of chunked(lines, KEYS_PER_QUERY)) {
      const valid = chunk.map((l) => isValidSsin(l.ssin, year));
      const ssins = chunk.filter((_, i) => valid[i]).map((l) => l.ssin);
      const { persons, integrations } = await lookupRegister(ctx.db, { institutionCbe: ctx.client.cbeNumber, sector: ctx.client.sector }, ssins);
      const provider = await lookupProviderIntegrations(ctx.db, [...persons.keys()]);
      const decisions: HandiserviceDecision[] = chunk.map((line, i) =>
        decideHandiserviceLine({
          ssinValid: valid[i],
          person: valid[i] ? persons.get(line.ssin) : undefined,
          line,
          referenceDate: ctx.referenceDate,
          sender,
          senderIntegrations: integrations.get(line.ssin) ?? [],
          providerIntegrations: provider.get(line.ssin) ?? [],
        }),
      );
      const wanted = chunk.filter((_, i) => decisions[i].code === 'CONTINUE').map((l) => l.ssin);
      const records = await lookupHandicapRecords(ctx.db, wanted);
      const out: ProfiledResponseLine[] = chunk.map((line, i) => {
        const base = { seq: line.seq, ticket: line.ticket, ssin: line.ssin };
        const d = decisions[i];
        if (d.code !== 'CONTINUE') return { ...base, status: d.code, newSsin: d.code === 'MSG00006' ? d.newSsin : undefined };
        const person = records.get(line.ssin) ?? { recognitions: [], rights: [], payments: [], cards: [] };
        const handicap = applyHandicapProfile(handicapData(person, d.range), ctx.authorization.fields);
        return handicap === undefined ? { ...base, status: 'MSG00100' } : { ...base, status: 'MSG00000', handicap };
      });
      if (audit) {
        for (let i = 0; i < chunk.length; i++) {
          if (!valid[i]) continue;
          const d = decisions[i];
          const qualityCode = d.code === 'CONTINUE' || d.code === 'MSG00021' ? d.sender.qualityCode : null;
          const due = audit.add(chunk[i].seq, chunk[i].ssin, qualityCode, out[i].status);
          if (due) await due;
        }
      }
      yield* out;
    }
    // Every entry is stored before the writer gets past the last line (and so before it signs).
    await audit?.close();
  } finally {
    await audit?.settle();
  }
}
