import { LdmError } from '../errors.js';

/** The one way the journal says "this instance no longer holds the batch": its updates were refused. */
export function leaseLost(id: number, instanceId: string, when: string): LdmError {
  return new LdmError('LEASE_LOST', `batch ${id} is no longer held by instance ${instanceId} (${when}; its lease expired and another instance took it over)`);
}

export function isLeaseLost(err: unknown): boolean {
  return err instanceof LdmError && err.code === 'LEASE_LOST';
}
