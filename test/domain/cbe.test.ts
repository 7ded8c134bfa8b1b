import { describe, expect, it } from 'vitest';
import { isValidCbe, makeCbe } from '../../src/domain/cbe.js';

describe('isValidCbe', () => {
  it.each([
    ['0308357159', true], // contract example
    ['0000000097', true], // body 0: check 97
    ['1234567894', true], // first digit 1
    ['0308357158', false], // wrong check
    ['2308357159', false], // first digit 2
    ['308357159', false], // 9 digits
    ['03083571590', false], // 11 digits
    ['0308.357.159', false], // formatted
    ['BE0308357159', false],
    ['', false],
  ])('%s → %s', (cbe, valid) => {
    expect(isValidCbe(cbe)).toBe(valid);
  });
});

describe('makeCbe', () => {
  it.each([
    [3083571, '0308357159'],
    [0, '0000000097'],
    [12345678, '1234567894'],
    [19999999, makeCbe(19999999)],
  ])('%i → %s', (body, cbe) => {
    expect(makeCbe(body)).toBe(cbe);
    expect(isValidCbe(cbe)).toBe(true);
  });

  it.each([-1, 20000000, 1.5, Number.NaN])('rejects %s', (body) => {
    expect(() => makeCbe(body)).toThrow(RangeError);
  });
});
