import { readFile } from 'node:fs/promises';
import { packagePath } from '../config/packagePath.js';

/** CBE numbers of the shipped OCMW reference list (fixtures/reference/ocmws.csv). */
export async function readOcmwList(): Promise<string[]> {
  const text = await readFile(packagePath('fixtures', 'reference', 'ocmws.csv'), 'utf8');
  return text.split('\n').slice(1).filter(Boolean).map((l) => l.split(',')[0]);
}
