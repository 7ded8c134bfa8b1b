// CBE/KBO enterprise numbers: 10 digits, first digit 0 or 1, last two = 97 − (first eight mod 97).

const CBE_SHAPE = /^[01]\d{9}$/;

function checkDigits(body: number): number {
  return 97 - (body % 97);
}

export function isValidCbe(cbe: string): boolean {
  if (!CBE_SHAPE.test(cbe)) return false;
  return Number(cbe.slice(8)) === checkDigits(Number(cbe.slice(0, 8)));
}

/** A valid CBE number from its 8-digit body (0..19999999, leading zeros added). */
export function makeCbe(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 19_999_999) throw new RangeError(`CBE body must be 0..19999999: ${n}`);
  return `${String(n).padStart(8, '0')}${String(checkDigits(n)).padStart(2, '0')}`;
}
