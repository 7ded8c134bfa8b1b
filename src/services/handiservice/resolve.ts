// Resolves Handiservice lines (contract §6c) from the read model of the store version the batch
// reads (readmodel/, fixed at claim: a re-run answers the same): per line, the person, the
// sender's integrations and the person's sector-16 integrations from the person's slice of the
// repertory, then the pure rules decide the line, and the DG PMH data of a line that passes both
// checks come from the model's Handiservice sections (readmodel/handiservice.ts) in the shapes
// the store lookups give. Lines go in chunks so audit entries are stored in big batches.
import { KEYS_PER_QUERY } from '../../store/db.js';
import type { ReadModel } from '../../readmodel/model.js';
import { LdmError } from '../../errors.js';
import { PROVIDER_SECTOR } from './rules.js';
import { chunked } from '../../pipeline/chunked.js';
import { isValidSsin, yearOf } from '../../domain/ssin.js';
import type { ProfiledResponseLine, RequestLine } from '../../interfaces.js';
import { AuditSink } from '../../audit/record.js';
import { decideHandiserviceLine, handicapData, type HandiserviceDecision } from './rules.js';
import { applyHandicapProfile } from './profile.js';
import type { ServiceContext } from '../context.js';

export type HandiserviceContext = ServiceContext;

export async function* resolveHandiservice(lines: AsyncIterable<readonly RequestLine[]>, ctx: HandiserviceContext): AsyncGenerator<ProfiledResponseLine[]> {
  // As for amounts: one read path, the model of the batch's store version (leased by the pipeline).
  if (ctx.readModel === undefined) throw new LdmError('READ_MODEL_MISSING', 'Handiservice batches are answered from the read model; none was given to the resolver');
  yield* fromModel(lines, ctx, ctx.readModel);
}

async function* fromModel(lines: AsyncIterable<readonly RequestLine[]>, ctx: HandiserviceContext, model: ReadModel): AsyncGenerator<ProfiledResponseLine[]> {
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
      }, { fence: ctx.audit.fence })
    : undefined;
  try {
    for await (const chunk of chunked(lines, KEYS_PER_QUERY)) {
      const valid = chunk.map((l) => isValidSsin(l.ssin, year));
      const decisions: HandiserviceDecision[] = chunk.map((line, i) => {
        const p = valid[i] ? model.personIndex(line.ssin) : -1;
        return decideHandiserviceLine({
          ssinValid: valid[i],
          person: p >= 0 ? model.person(p) : undefined,
          line,
          referenceDate: ctx.referenceDate,
          sender,
          senderIntegrations: p >= 0 ? model.integrations(p, ctx.client.cbeNumber, ctx.client.sector) : [],
          providerIntegrations: p >= 0 ? model.sectorIntegrations(p, PROVIDER_SECTOR) : [],
        });
      });
      const out: ProfiledResponseLine[] = chunk.map((line, i) => {
        const base = { seq: line.seq, ticket: line.ticket, ssin: line.ssin };
        const d = decisions[i];
        if (d.code !== 'CONTINUE') return { ...base, status: d.code, newSsin: d.code === 'MSG00006' ? d.newSsin : undefined };
        const person = model.handicapRecords(line.ssin) ?? { recognitions: [], rights: [], payments: [], cards: [] };
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
      yield out;
    }
    // Every entry is stored before the writer gets past the last line (and so before it signs).
    await audit?.close();
  } finally {
    await audit?.settle();
  }
}
