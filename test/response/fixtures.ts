// Shared sample data and checkers for the response tests.

import { execFile } from 'node:child_process';
import { existsSync, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { removeTestKeys, testKeys, type TestKeys } from '../helpers/keys.js';
import { promisify } from 'node:util';
import { SignedXml } from 'xml-crypto';
import type { Rejection, ResponseHeader, ResponseLine, Signer } from '../../src/interfaces.js';
import { writeResponse, type ResponseBody, type WriteResult } from '../../src/response/writer.js';

const execFileP = promisify(execFile);

export const XMLSEC1 = '/usr/bin/xmlsec1';
export const XMLLINT = '/usr/bin/xmllint';
export const HAVE_XMLSEC1 = existsSync(XMLSEC1);
export const HAVE_XMLLINT = existsSync(XMLLINT);
export const NO_XMLSEC1 = `${XMLSEC1} is not installed (apt-get install xmlsec1): independent signature check skipped`;
export const NO_XMLLINT = `${XMLLINT} is not installed (apt-get install libxml2-utils): well-formedness check skipped`;

export const HEADER: ResponseHeader = {
  inReplyTo: 'FIN-2026-000001',
  requestSha256: 'a'.repeat(64),
  service: 'LivingWagesWithAmount',
  referenceDate: '2026-01-15',
  processedAt: '2026-01-15T03:00:07Z',
};

export const LINES: ResponseLine[] = [
  {
    seq: 1,
    ticket: 'client-ref-0001',
    ssin: '85073003328',
    status: 'MSG00000',
    year: {
      year: 2025,
      totals: [
        {
          ocmw: '0212345678',
          benefitType: 'LEEFLOON',
          category: 'ISOLATED',
          amountCents: 1234567,
          months: 12,
          fullYear: true,
          provisional: false,
          partnerSsin: '90010100123',
        },
        {
          ocmw: '0212345679',
          benefitType: 'EQUIVALENT_LEEFLOON',
          category: 'FAMILY',
          amountCents: -250,
          months: 2,
          fullYear: false,
          provisional: true,
          partners: ['90010100123', '91020200234'],
        },
      ],
    },
  },
  {
    seq: 2,
    ssin: '85073003328',
    status: 'MSG00000',
    months: {
      lastMonthIsLastPaid: false,
      entries: [
        {
          month: '2025-01',
          ocmw: '0212345678',
          benefitType: 'LEEFLOON',
          category: 'COHABITANT',
          amountCents: 98765,
          from: '2025-01-01',
          to: '2025-01-31',
          fullMonth: true,
          provisional: false,
          beneficiarySsin: '70123100145',
        },
      ],
    },
  },
  { seq: 3, ssin: '85073003328', status: 'MSG00006', newSsin: '85073003427' },
  { seq: 5, ticket: 'x', ssin: '12345678901', status: 'MSG00011' },
];

export const REJECTION: { rejection: Rejection } = {
  rejection: {
    code: 'SCHEMA_INVALID',
    errors: [
      { line: 12, column: 5, message: "element 'Ssin': '1234' is not a valid value" },
      { line: 20, column: 7, message: 'missing <Role> & <Period>' },
    ],
  },
};

export async function writeFile(
  path: string,
  body: ResponseBody,
  signer: Signer,
  header: ResponseHeader = HEADER,
): Promise<WriteResult> {
  return writeResponse(createWriteStream(path), header, body, signer);
}

/**
 * A test file's genuine signed response of LINES (`genuine.xml` in a temporary folder removed after
 * the file's tests) and the keys that signed it; `path(name)` names other files in that folder.
 * Registers its own beforeAll/afterAll: call it at the top level of a test file.
 */
export function genuineResponse(prefix: string): { path: (name: string) => string; readonly keys: TestKeys; readonly original: string } {
  let dir = '';
  let keys: TestKeys | undefined;
  let original = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    keys = await testKeys();
    await writeFile(join(dir, 'genuine.xml'), LINES, keys.signer);
    original = readFileSync(join(dir, 'genuine.xml'), 'utf8');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    removeTestKeys();
  });
  return {
    path: (name) => join(dir, name),
    get keys(): TestKeys {
      if (keys === undefined) throw new Error('genuineResponse: used before its beforeAll ran');
      return keys;
    },
    get original(): string {
      return original;
    },
  };
}

export interface ToolResult {
  code: number;
  output: string;
}

async function run(cmd: string, args: string[]): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export function xmlsec1Verify(file: string, certPath: string): Promise<ToolResult> {
  return run(XMLSEC1, ['--verify', '--trusted-pem', certPath, file]);
}

export function xmllint(file: string): Promise<ToolResult> {
  return run(XMLLINT, ['--noout', '--nonet', file]);
}

/** xml-crypto's own (DOM-based) verification, with the certificate given explicitly. */
export function xmlCryptoVerify(file: string, certPem: string): boolean {
  const xml = readFileSync(file, 'utf8');
  const m = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml);
  if (!m) throw new Error('no signature in file');
  const sig = new SignedXml({ publicCert: certPem, getCertFromKeyInfo: () => null });
  sig.loadSignature(m[0]);
  return sig.checkSignature(xml);
}
