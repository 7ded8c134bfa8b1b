// Checks of one rights.csv row (contract §8), as a pure function: the import kind turns a
// RowProblem into a BadRow with the row's line number.
import { currentYear, isValidSsin } from '../../domain/ssin.js';
import { isValidCbe } from '../../domain/cbe.js';
import { isValidDate } from '../../domain/dates.js';
import { RIGHT_EVENTS, RIGHT_TYPES, type RightVersion } from '../../interfaces.js';

export const RIGHTS_COLUMNS = ['right_id', 'version', 'ssin', 'ocmw_cbe', 'right_type', 'start_date', 'end_date', 'event', 'decided_on'] as const;

/** A bad value in a row; the message is the reason shown to the operator. */
export class RowProblem extends Error {}

type Values = Record<string, string | null>;

function required(v: Values, col: string): string {
  const s = v[col];
  if (s === null || s === undefined) throw new RowProblem(`${col} is required`);
  return s;
}

function date(v: Values, col: string): string {
  const s = required(v, col);
  if (!isValidDate(s)) throw new RowProblem(`${col} must be a date YYYY-MM-DD, found "${s}"`);
  return s;
}

function oneOf<T extends string>(v: Values, col: string, allowed: readonly T[]): T {
  const s = required(v, col);
  if (!(allowed as readonly string[]).includes(s)) throw new RowProblem(`${col} must be one of ${allowed.join(', ')}, found "${s}"`);
  return s as T;
}

/** Checks one row into a RightVersion (throws RowProblem). Empty cells are null (contract §8). */
export function checkRightRow(v: Values, ocmws: ReadonlySet<string>, referenceYear: number = currentYear()): RightVersion {
  const rightId = required(v, 'right_id');
  // Printable ASCII without spaces: it is written in XML (RightId, \S{1,64}) and shown to operators.
  if (!/^[!-~]{1,64}$/.test(rightId)) throw new RowProblem('right_id must be 1-64 printable ASCII characters without spaces');
  const version = required(v, 'version');
  if (!/^[1-9]\d{0,8}$/.test(version)) throw new RowProblem(`version must be a positive whole number, found "${version}"`);
  const ssin = required(v, 'ssin');
  if (!/^\d{11}$/.test(ssin)) throw new RowProblem('ssin must be 11 digits');
  if (!isValidSsin(ssin, referenceYear)) throw new RowProblem('ssin has wrong check digits (not a valid national or BIS number)');
  const ocmw = required(v, 'ocmw_cbe');
  if (!/^\d{10}$/.test(ocmw) || !isValidCbe(ocmw)) throw new RowProblem('ocmw_cbe is not a valid 10-digit CBE number');
  if (!ocmws.has(ocmw)) {
    throw new RowProblem(
      `ocmw_cbe ${ocmw} is not on the OCMW list: a right is granted by an OCMW (a municipality without one, such as Herstappe, cannot grant it); import ocmws first if the OCMW is new`,
    );
  }
  const startDate = date(v, 'start_date');
  const endDate = v.end_date === null || v.end_date === undefined ? null : date(v, 'end_date');
  if (endDate !== null && endDate < startDate) throw new RowProblem('end_date is before start_date');
  return {
    rightId,
    version: Number(version),
    ssin,
    ocmwCbe: ocmw,
    rightType: oneOf(v, 'right_type', RIGHT_TYPES),
    startDate,
    endDate,
    event: oneOf(v, 'event', RIGHT_EVENTS),
    decidedOn: date(v, 'decided_on'),
  };
}

