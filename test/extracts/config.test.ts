// The extract keys of the config (src/config/schema.ts): defaults, and every problem refused at
// load with the path of the key.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';

const FIN = { clientId: 'fin', legalContext: 'FPS_FINANCE:TAX_ASSESSMENT', schedule: '0 3 15 1 *' };
const load = (extracts: unknown) => parseConfig({ spool: { root: '/srv/ldm-spool' }, extracts }, '/etc/ldm/ldm-batch.config.json');

describe('config: extracts', () => {
  it('defaults: none; service LivingWagesWithAmount and period previous-year', () => {
    expect(parseConfig({ spool: { root: '/srv/ldm-spool' } }, '/x/c.json').extracts).toEqual([]);
    expect(load([FIN]).extracts).toEqual([{ ...FIN, service: 'LivingWagesWithAmount', period: 'previous-year' }]);
  });

  it.each([
    [[{ ...FIN, schedule: '0 3 32 1 *' }], /extracts\[0\]\.schedule .*not a valid cron expression/],
    [[{ ...FIN, period: 'previous-month' }], /extracts\[0\]\.period must be "previous-year"/],
    [[{ ...FIN, service: 'LivingWages' }], /extracts\[0\]\.service must be "LivingWagesWithAmount"/],
    [[{ clientId: 'fin', schedule: '0 3 15 1 *' }], /extracts\[0\]\.legalContext/],
    [[{ ...FIN, clientId: '../x' }], /extracts\[0\]\.clientId/],
    [[FIN, { ...FIN, schedule: '0 4 15 1 *' }], /extracts\[1\]\.clientId "fin" has two extracts/],
    [[{ ...FIN, shedule: '0 3 15 1 *' }], /unknown key "extracts\[0\]\.shedule" — did you mean "schedule"\?/],
  ])('refuses %j', (extracts, message) => {
    expect(() => load(extracts)).toThrow(message);
  });
});
