// The read model's file layout (format 3; format 2 had a SHA-256 where this has a CRC-32, format 1
// no Handiservice sections). One file per store version, immutable once published.
//
//   bytes 0..7    magic "LDMREAD\n"
//   bytes 8..11   format (uint32 LE, 3)
//   bytes 12..15  header length H (uint32 LE)
//   bytes 16..    header: UTF-8 JSON (ReadModelHeader), padded with spaces to a multiple of 8
//   then          the sections, each at the 8-aligned offset the header names (from the file start),
//                 in the order the builder wrote them (build.ts streams; readers go by the header)
//
// The header's `crc32` is the CRC-32 (zlib's) of every byte after the header: a torn or damaged
// file is refused and rebuilt from the store (the store is the system of record; this file is
// disposable). A CRC, not a SHA-256: it is checked at every open, and SHA-256 ran at ~160 MB/s on
// the bench machine (0.8 s per open of the 124 MB bench model, 5–6 s for a national one) where
// zlib's CRC-32 runs at ~1.3 GB/s. It catches every torn page and random damage; neither would stop
// someone who can write the data folder, who could recompute either (README "The read model").
//
// Sections (little endian; P persons, R repertory rows, A amount rows, K SSINs with amount rows,
// Q partner references):
//   strings           UTF-8 JSON array, sorted in code-unit order: every text value of the model
//                     (CBE numbers, dates, months, benefit types, categories, statuses). A value is
//                     stored as its index, so index order is the rules' string order.
//   personSsin        float64[P]  the SSIN as a number (11 digits fit a double exactly), ascending
//   personReplacedBy  float64[P]  -1 when not replaced
//   personRep         uint32[P+1] the person's repertory rows are [personRep[i], personRep[i+1])
//   rep*              uint32[R]   sector, institution (string index; '' = sector level),
//                                 qualityCode, start (string index), end (string index, NONE = open);
//                                 a person's rows sorted by (start, qualityCode, institution, sector)
//   amountKey         float64[K]  the SSINs that have amount rows as beneficiary, ascending
//   amountStart       uint32[K+1] their rows are records [amountStart[k], amountStart[k+1])
//   amounts           A records of 32 bytes, grouped by beneficiary SSIN, by month within one:
//                       0 float64 partner SSIN (-1 = none)   8 float64 amount in cents
//                      16 uint16 × 8: ocmw, benefitType, category, month, grantFrom, grantTo,
//                                     paidOn, status (string indexes)
//                     Records, not columns: a person's rows are one positioned read when the
//                     section stays on disk (national scale, see ReadModel).
//   partnerKey        float64[…]  the SSINs named as partner, ascending
//   partnerStart      uint32[…+1] their references are partnerRow[partnerStart[k] … partnerStart[k+1])
//   partnerRow        uint32[Q]   record numbers in `amounts`
//   hs{Recognition,Right,Payment,Card}{Key,Start,Rows}
//                     the four kinds of Handiservice data, per kind SSIN keys, starts and the rows
//                     as JSON (readmodel/handiservice.ts)
import { digitsValue } from '../domain/ssin.js';

export const MAGIC = 'LDMREAD\n';
export const FORMAT = 3;
export const PREFIX_BYTES = 16;
export const AMOUNT_RECORD_BYTES = 32;
/** The end of an open integration, and "no value" in other string-index columns. */
export const NONE = 0xffffffff;
/** Record fields are uint16 string indexes: a model with more distinct strings is refused (a later format would widen them). */
export const MAX_STRINGS = 0xffff;

export const SECTION_NAMES = [
  'strings',
  'personSsin',
  'personReplacedBy',
  'personRep',
  'repSector',
  'repInstitution',
  'repQualityCode',
  'repStart',
  'repEnd',
  'amountKey',
  'amountStart',
  'amounts',
  'partnerKey',
  'partnerStart',
  'partnerRow',
  'hsRecognitionKey',
  'hsRecognitionStart',
  'hsRecognitionRows',
  'hsRightKey',
  'hsRightStart',
  'hsRightRows',
  'hsPaymentKey',
  'hsPaymentStart',
  'hsPaymentRows',
  'hsCardKey',
  'hsCardStart',
  'hsCardRows',
] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

export interface ReadModelHeader {
  format: number;
  /** The store version (store/storeVersion.ts) this file was built from. */
  storeVersion: number;
  builtAt: string;
  counts: { persons: number; repertory: number; amounts: number; partnerRefs: number; /** rows of the four Handiservice kinds */ handiservice: number };
  sections: Record<SectionName, { offset: number; length: number }>;
  /** CRC-32 of the body (every byte after the header), unsigned. */
  crc32: number;
}

/** The SSIN as the model stores it; undefined for anything that is not 11 digits. */
export function ssinKey(ssin: string): number | undefined {
  // Digit by digit: a regex test and Number() allocated ~65 B per call (a million per batch).
  if (ssin.length !== 11) return undefined;
  const v = digitsValue(ssin, 0, 11);
  return v < 0 ? undefined : v;
}

/** The index of `key` in an ascending array of distinct keys, or -1. */
export function findKey(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = keys[mid];
    if (v < key) lo = mid + 1;
    else if (v > key) hi = mid - 1;
    else return mid;
  }
  return -1;
}

export const align8 = (n: number): number => (n + 7) & ~7;
