// Real XSD validation of batch files through libxml2 (libxml2-wasm).
//
// Order: guard (DTD/entities refused, UTF-8 only; no parser has seen the file yet), then
// libxml2 parses and validates the file slice by slice (see slices.ts): memory stays bounded
// by the slice size, and every line number is exact.
//
// libxml2 options: no NOENT (entities are never substituted), NO_XXE and NONET (nothing is
// ever loaded), BIG_LINES (line numbers past 65535 for a document that still has that many
// lines, e.g. one huge record or a file with an unexpected shape).
// Wasm memory is manual: every document is disposed as soon as it has been validated.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ParseOption, XmlDocument, XmlParseError, XmlValidateError, XsdValidator, type ErrorDetail } from 'libxml2-wasm';
import type { FileError } from '../interfaces.js';
import { guardRequestFile } from './guard.js';
import { CONTAINERS, SCHEMA_DIR, SCHEMA_FILES, type SchemaKind } from './schemaFiles.js';
import { locatePaths } from './locate.js';
import { DEFAULT_SLICE_OPTIONS, mapToFile, sliceFile, type Slice, type SliceOptions } from './slices.js';

export type ValidationResult =
  | { ok: true }
  | { ok: false; code: 'NOT_WELL_FORMED' | 'DTD_FORBIDDEN' | 'SCHEMA_INVALID'; errors: FileError[] };

/** At most this many errors are reported for one file. */
export const MAX_ERRORS = 100;

export const PARSE_OPTIONS =
  ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES;

export { SCHEMA_DIR, type SchemaKind } from './schemaFiles.js';

const validators = new Map<SchemaKind, { xsd: XmlDocument; validator: XsdValidator }>();

/**
 * The compiled schema, loaded once per process and kept for its lifetime (the schema document
 * stays alive with it: libxml2's compiled schema may point into it).
 */
export function loadSchema(kind: SchemaKind): XsdValidator {
  const cached = validators.get(kind);
  if (cached) return cached.validator;
  const bytes = readFileSync(`${SCHEMA_DIR}${SCHEMA_FILES[kind]}`); // once per process, a few KiB
  const xsd = XmlDocument.fromBuffer(bytes, { option: PARSE_OPTIONS });
  try {
    const validator = XsdValidator.fromDoc(xsd);
    validators.set(kind, { xsd, validator });
    return validator;
  } catch (err) {
    xsd.dispose();
    throw err;
  }
}

export function loadRequestSchema(): XsdValidator {
  return loadSchema('request');
}

export function validateRequestFile(path: string, options?: Partial<SliceOptions>): Promise<ValidationResult> {
  return validateFile(path, 'request', options);
}

/**
 * Schema validation of a request file that the guard has accepted already (in the pipeline: in
 * the single pass over the file, requestPass.ts): libxml2 only, the guard is not run again.
 */
export function validateGuardedRequestFile(path: string, options?: Partial<SliceOptions>): Promise<ValidationResult> {
  return validateWithLibxml2(path, loadSchema('request'), { ...DEFAULT_SLICE_OPTIONS, container: CONTAINERS.request, ...options });
}

/** Validates a response file against the response schema (the signature is not checked here). */
export function validateResponseFile(path: string, options?: Partial<SliceOptions>): Promise<ValidationResult> {
  return validateFile(path, 'response', options);
}

export function validateNotificationFile(path: string, options?: Partial<SliceOptions>): Promise<ValidationResult> {
  return validateFile(path, 'notification', options);
}

export async function validateFile(path: string, kind: SchemaKind, options?: Partial<SliceOptions>): Promise<ValidationResult> {
  const guard = await guardRequestFile(path);
  if (!guard.ok) return { ok: false, code: guard.code, errors: [guard.error] };
  const validator = loadSchema(kind);
  return validateWithLibxml2(path, validator, { ...DEFAULT_SLICE_OPTIONS, container: CONTAINERS[kind], ...options });
}

/**
 * The libxml2 part, for a file the guard has accepted: parse and validate slice by slice.
 * Well-formedness errors win over schema errors (as when parsing the whole file, where
 * validation only starts once parsing succeeded), so slices are still parsed after the
 * error cap is reached.
 */
export async function validateWithLibxml2(path: string, validator: XsdValidator, options: SliceOptions): Promise<ValidationResult> {
  const schemaErrors = new ErrorList();
  for await (const slice of sliceFile(path, options)) {
    const parsed = parseSlice(slice);
    if (!parsed.ok) {
      const errors = parsed.errors.length > 0 ? parsed.errors : await parseWholeFile(path);
      return { ok: false, code: 'NOT_WELL_FORMED', errors };
    }
    try {
      if (!schemaErrors.full) validateSlice(slice, parsed.doc, validator, schemaErrors);
    } finally {
      parsed.doc.dispose();
    }
  }
  if (schemaErrors.size === 0) return { ok: true };
  return { ok: false, code: 'SCHEMA_INVALID', errors: schemaErrors.sorted() };
}

type Parsed = { ok: true; doc: XmlDocument } | { ok: false; errors: FileError[] };

function parseSlice(slice: Slice): Parsed {
  try {
    return { ok: true, doc: XmlDocument.fromBuffer(slice.bytes, { option: PARSE_OPTIONS }) };
  } catch (err) {
    if (!(err instanceof XmlParseError)) throw err;
    // The first error only: what follows it is mostly a consequence.
    const first = failures(err.details)[0];
    if (!first) return { ok: false, errors: [{ line: 1, column: 1, message: 'the file could not be parsed as XML' }] };
    const at = mapToFile(slice.map, first.line, first.col);
    // An error inside the synthetic end of a slice has no place in the file: the caller then
    // parses the whole file (rare: slices are cut along the file's own tags).
    if (!at) return { ok: false, errors: [] };
    return { ok: false, errors: [{ line: at.line, column: Math.max(1, at.column), message: mapMessageLines(slice, tidy(first.message)) }] };
  }
}

/** Fallback for a well-formedness error that a slice cannot place: parse the file as a whole. */
async function parseWholeFile(path: string): Promise<FileError[]> {
  const bytes = await readFile(path);
  try {
    XmlDocument.fromBuffer(bytes, { option: PARSE_OPTIONS }).dispose();
    return [{ line: 1, column: 1, message: 'the file is not well-formed XML' }];
  } catch (err) {
    if (!(err instanceof XmlParseError)) throw err;
    const first = failures(err.details)[0];
    return first
      ? [{ line: first.line, column: Math.max(1, first.col), message: tidy(first.message) }]
      : [{ line: 1, column: 1, message: 'the file could not be parsed as XML' }];
  }
}

function validateSlice(slice: Slice, doc: XmlDocument, validator: XsdValidator, out: ErrorList): void {
  let details: ErrorDetail[];
  try {
    validator.validate(doc);
    return;
  } catch (err) {
    if (!(err instanceof XmlValidateError)) throw err;
    details = failures(err.details);
  }
  // libxml2 gives the line of the element but no column: find the element's start tag, or
  // the attribute the message names.
  const paths = details.map(nodePath);
  const wanted = new Set<string>();
  for (const [i, d] of details.entries()) {
    if (d.xpath) wanted.add(d.xpath);
    const p = paths[i];
    if (p) wanted.add(p);
  }
  const located = locatePaths(slice.bytes, wanted);
  for (const [i, d] of details.entries()) {
    const path = paths[i];
    const pos = (path ? located.get(path) : undefined) ?? (d.xpath ? located.get(d.xpath) : undefined) ?? { line: d.line, column: 0 };
    const at = mapToFile(slice.map, pos.line, pos.column);
    if (!at) continue; // about the synthetic end of the slice
    out.add({ line: at.line, column: Math.max(1, at.column), message: tidy(d.message) });
  }
}

/** The error's node path, down to the attribute when the message is about one. */
function nodePath(d: ErrorDetail): string | undefined {
  if (!d.xpath) return undefined;
  const attr = /^Element '[^']*', attribute '([^'{}\s]+)'/.exec(d.message);
  return attr ? `${d.xpath}/@${attr[1]}` : d.xpath;
}

/** Errors and fatal errors; warnings (level 1, e.g. a relative namespace URI) do not fail a file. */
function failures(details: ErrorDetail[]): ErrorDetail[] {
  return details.filter((d) => d.level >= 2);
}

function tidy(message: string): string {
  return message.trim();
}

/**
 * libxml2 writes the line of a start tag into some messages ("Opening and ending tag
 * mismatch: Request line 12 and Foo"): that line is mapped too. On the line where the prefix
 * ends and the slice begins, the element's name tells which of the two it is.
 */
function mapMessageLines(slice: Slice, message: string): string {
  const { docStart, fileStart, docEnd, prefixElements } = slice.map;
  return message.replace(/(\S+) line (\d+)\b/g, (whole, name: string, digits: string) => {
    const n = Number(digits);
    if (n < docStart.line || (docEnd && n > docEnd.line)) return whole;
    if (n === docStart.line && prefixElements.includes(name)) return whole;
    return `${name} line ${fileStart.line + (n - docStart.line)}`;
  });
}

/**
 * Schema errors of all slices, deduplicated: the prefix (Header) is part of every slice and
 * its errors come back with each one.
 */
class ErrorList {
  private readonly list: FileError[] = [];
  private readonly keys = new Set<string>();

  get size(): number {
    return this.list.length;
  }

  get full(): boolean {
    return this.list.length >= MAX_ERRORS;
  }

  add(e: FileError): void {
    const key = `${e.line}:${e.column}:${e.message}`;
    if (this.keys.has(key) || this.full) return;
    this.keys.add(key);
    this.list.push(e);
  }

  sorted(): FileError[] {
    return [...this.list].sort((a, b) => a.line - b.line || a.column - b.column);
  }
}
