// What every service's resolver receives from the pipeline (answerRequest): one shape for all
// services, so a service is declared to the pipeline and not special-cased in it.
import type { Db } from '../store/db.js';
import type { Authorization, Client } from '../interfaces.js';
import type { ReadModel } from '../readmodel/model.js';
import type { AuditFence } from '../audit/record.js';
import type { ReadProgress } from '../batch/fastReader.js';

export interface ServiceContext {
  db: Db;
  client: Client;
  authorization: Authorization;
  referenceDate: string;
  /** When set, every line with a valid SSIN is audited (logging principle) before the response is signed. */
  audit?: {
    batchId: number;
    consultedAt: string;
    /** Checks in each audit write that this instance still holds the batch (see AuditFence). */
    fence?: AuditFence;
  };
  /** The read model of the batch's store version, for services that declare `usesReadModel`. */
  readModel?: ReadModel;
  /** How far the reader of `lines` is in the file: lets a resolver estimate the lines still to come. */
  readProgress?: ReadProgress;
}
