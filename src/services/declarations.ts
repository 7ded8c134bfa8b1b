// What each service declares to the shared pipeline, as plain data (no I/O, no resolvers, so
// domain code may read it): the period kinds its lines take, the order of its line checks, the
// vocabulary of its field profiles, the service name its audit rows carry, and whether it reads
// the read model. The resolvers are added in registry.ts. A new service is one entry here, one in
// registry.ts, a folder of rules (services/<name>/) and one of store access (store/<name>/).
import type { RequestPeriod, ServiceName, StatusCode } from '../interfaces.js';
import { unknownAmountFields } from './amounts/profile.js';
import { unknownHandiserviceFields } from './handiservice/profile.js';

export interface ServiceDeclaration {
  name: ServiceName;
  /** The period kinds its request lines take (another kind is MSG00008). */
  periodKinds: readonly RequestPeriod['kind'][];
  /** Its line checks, in order: the first that fails gives the line's code (contract §4, §6c). */
  lineOrder: readonly StatusCode[];
  /** Names in an authorization's `fields` the service does not know (configuration and import refuse them). */
  unknownFields(fields: readonly string[]): string[];
  /** The `service` of its audit rows. */
  auditService: ServiceName;
  /** Whether its lines are answered from the read model (readmodel/) when the instance has one. */
  usesReadModel: boolean;
}

const BASE_ORDER: readonly StatusCode[] = ['MSG00011', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00012', 'MSG00100', 'MSG00000'];

export const SERVICE_DECLARATIONS: Readonly<Record<ServiceName, ServiceDeclaration>> = {
  LivingWagesWithAmount: {
    name: 'LivingWagesWithAmount',
    periodKinds: ['year', 'months'],
    lineOrder: BASE_ORDER,
    unknownFields: unknownAmountFields,
    auditService: 'LivingWagesWithAmount',
    usesReadModel: true,
  },
  LivingWages: {
    name: 'LivingWages',
    periodKinds: ['dates'],
    lineOrder: BASE_ORDER,
    unknownFields: () => [],
    auditService: 'LivingWages',
    usesReadModel: false,
  },
  Handiservice: {
    name: 'Handiservice',
    periodKinds: ['dates'],
    // the provider check (MSG00021) after the sender's (MSG00012)
    lineOrder: ['MSG00011', 'MSG00005', 'MSG00006', 'MSG00008', 'MSG00012', 'MSG00021', 'MSG00100', 'MSG00000'],
    unknownFields: unknownHandiserviceFields,
    auditService: 'Handiservice',
    usesReadModel: true,
  },
};

/** The declaration of a service name, or undefined for a name that is no request service. */
export function declarationOf(service: string): ServiceDeclaration | undefined {
  return Object.hasOwn(SERVICE_DECLARATIONS, service) ? SERVICE_DECLARATIONS[service as ServiceName] : undefined;
}
