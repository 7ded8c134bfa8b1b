// Serialization helpers that emit Exclusive XML Canonicalization (exc-c14n) form directly.
//
// The response writer hashes the bytes it writes; that hash is only the correct XML-DSig digest
// if every byte is already canonical. So these helpers follow the C14N rules exactly
// (https://www.w3.org/TR/xml-c14n#ProcessingModel):
// - text: & < > and CR are escaped (CR as &#xD;), nothing else;
// - attribute values: & < " TAB LF CR are escaped, nothing else ('>' and '\'' stay literal);
// - attributes are sorted, empty elements are written as start + end tag, never `<x/>`.
// All our attributes are unqualified (no namespace), so "sorted" is plain code-point order of
// the local names; namespace declarations (xmlns, xmlns:p) sort before them.

export type AttrValue = string | number | boolean | undefined;
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Characters that XML 1.0 cannot carry at all (not even as character references). */
const INVALID_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Fast path: a value made only of printable ASCII other than the special characters needs
// neither the validity check nor escaping (codes, digits, dates: nearly everything we write).
const TEXT_NEEDS_WORK = /[^\x20-\x25\x27-\x3B\x3D\x3F-\x7E]/; // not printable ASCII, or & < >
const ATTR_NEEDS_WORK = /[^\x20\x21\x23-\x25\x27-\x3B\x3D-\x7E]/; // not printable ASCII, or & < "
const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<"\t\n\r]/;
const TEXT_SPECIAL_G = /[&<>\r]/g;
const ATTR_SPECIAL_G = /[&<"\t\n\r]/g;

const TEXT_ESC: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const ATTR_ESC: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '"': '&quot;',
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
};

/**
 * Refuses strings that no XML document can contain. Writing them would produce a file that
 * no parser accepts (or, for lone surrogates, bytes that differ from what was meant).
 */
export function assertXmlChars(s: string): void {
  if (INVALID_XML_CHAR.test(s)) {
    throw new Error(`value contains a character that XML 1.0 cannot represent: ${JSON.stringify(s)}`);
  }
}

/** Canonical text-node escaping. */
export function escapeText(s: string): string {
  if (!TEXT_NEEDS_WORK.test(s)) return s;
  assertXmlChars(s);
  return TEXT_SPECIAL.test(s) ? s.replace(TEXT_SPECIAL_G, (c) => TEXT_ESC[c] ?? c) : s;
}

/** Canonical attribute-value escaping. */
export function escapeAttr(s: string): string {
  if (!ATTR_NEEDS_WORK.test(s)) return s;
  assertXmlChars(s);
  return ATTR_SPECIAL.test(s) ? s.replace(ATTR_SPECIAL_G, (c) => ATTR_ESC[c] ?? c) : s;
}

/** String form of an attribute value; numbers must be finite (NaN or 1e21 would be nonsense). */
export function attrString(v: string | number | boolean): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`attribute value is not a finite number: ${v}`);
    return String(v);
  }
  return typeof v === 'boolean' ? (v ? 'true' : 'false') : v;
}

/** Code-point comparison, which is what C14N prescribes (and not localeCompare). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** C14N attribute order: namespace declarations first (default one first), then the others. */
export function c14nAttrOrder(a: string, b: string): number {
  const an = a === 'xmlns' ? 0 : a.startsWith('xmlns:') ? 1 : 2;
  const bn = b === 'xmlns' ? 0 : b.startsWith('xmlns:') ? 1 : 2;
  return an !== bn ? an - bn : byCodePoint(a, b);
}

/**
 * `<name a="..." b="...">` with attributes in canonical order; undefined values are left out.
 * Only unqualified attributes and namespace declarations are supported (that is all we write).
 */
export function startTag(name: string, attrs: Attrs = {}): string {
  const names = Object.keys(attrs).sort(c14nAttrOrder);
  let s = `<${name}`;
  for (const k of names) {
    const v = attrs[k];
    if (v === undefined) continue;
    s += ` ${k}="${escapeAttr(attrString(v))}"`;
  }
  return `${s}>`;
}

export function endTag(name: string): string {
  return `</${name}>`;
}

/** A whole element; with no text it is still written `<x ...></x>` (canonical form). */
export function element(name: string, attrs: Attrs = {}, text?: string): string {
  return `${startTag(name, attrs)}${text === undefined ? '' : escapeText(text)}</${name}>`;
}
