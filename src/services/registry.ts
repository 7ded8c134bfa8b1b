// The services the pipeline answers, each its declaration (declarations.ts) and its resolver:
// answerRequest picks the service of a file here and knows nothing service-specific.
import type { ProfiledResponseLine, RequestLine, ServiceName } from '../interfaces.js';
import type { EncodedLines } from '../response/lineBytes.js';
import { resolveAmounts } from './amounts/resolve.js';
import { resolveRights } from './rights/resolve.js';
import { resolveHandiservice } from './handiservice/resolve.js';
import { SERVICE_DECLARATIONS, type ServiceDeclaration } from './declarations.js';
import type { ServiceContext } from './context.js';

export type { ServiceContext };

export interface Service extends ServiceDeclaration {
  /**
   * Lines come and answers go in batches (in seq order), so no await is paid per line: as line
   * objects, or already encoded (EncodedLines, the million-line service's hot path: reused, so
   * valid until the next batch is asked for).
   */
  resolve(lines: AsyncIterable<readonly RequestLine[]>, ctx: ServiceContext): AsyncIterable<readonly ProfiledResponseLine[] | EncodedLines>;
}

export const SERVICE_REGISTRY: Readonly<Record<ServiceName, Service>> = {
  LivingWagesWithAmount: { ...SERVICE_DECLARATIONS.LivingWagesWithAmount, resolve: resolveAmounts },
  LivingWages: { ...SERVICE_DECLARATIONS.LivingWages, resolve: resolveRights },
  Handiservice: { ...SERVICE_DECLARATIONS.Handiservice, resolve: resolveHandiservice },
};

export function serviceFor(name: ServiceName): Service {
  return SERVICE_REGISTRY[name];
}
