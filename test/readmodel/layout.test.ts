// ssinKey: the SSIN as the read model stores it (a number), for 11 digits only.
import { describe, expect, it } from 'vitest';
import { ssinKey } from '../../src/readmodel/layout.js';

describe('ssinKey', () => {
  it.each([
    ['85073003328', 85073003328],
    ['00000000000', 0],
    ['00000000097', 97],
    ['99999999999', 99999999999],
    ['03082419311', 3082419311],
  ])('%s is %d', (ssin, key) => expect(ssinKey(ssin)).toBe(key));

  it.each(['', '8507300332', '850730033280', '8507300332a', ' 5073003328', '85073003328 ', '8507300-328', '８５073003328', '1e10', '+5073003328', '0x507300332', '85073003328\n'])(
    'refuses %j',
    (ssin) => expect(ssinKey(ssin)).toBeUndefined(),
  );
});
