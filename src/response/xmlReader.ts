// A strict streaming XML 1.0 (fifth edition) + Namespaces 1.0 reader, for the verifier only.
//
// Why our own (measured, CPU user+sys, a 1M-line 591 MB response, 2-core shared machine):
// the full check with saxes took 133.8 s against xmlsec1's 48.8 s. Profiling showed that
// most of it was V8 running saxes' parser as a dictionary-mode object (saxes stores handlers
// with this[name] = ..., and a seventh such property demotes the object); fixed by registering
// six handlers, that check took ~54 s, still above xmlsec1 (51-60 s when measured alongside).
// saxes with xmlns: false was no faster (2.6 vs 3.2 s of bare parsing on 118 MB), and per-tag
// attribute objects (a dictionary per tag, for-in over it) stayed the cost. This reader scans
// with indexOf and charCodeAt, and tells its consumer when a tag or a text run is, as written,
// already in canonical form (the writer's own layout: nearly all of a response), so that the
// consumer hashes the source text itself: ~16-18 s for that file, about a third of xmlsec1.
//
// Strict: whatever is not well-formed (XML 1.0 + Namespaces) is refused with ReaderError, never
// repaired: characters outside Char, names, attribute syntax, duplicate attributes (by name and
// by namespace + local name), unbound prefixes, reserved prefixes misused, undeclared entities,
// character references to non-characters, "]]>" in text, "--" in comments, mismatched tags,
// anything but whitespace, comments and PIs outside the root, a PI named xml past the start.
// A DOCTYPE is refused altogether (no DTD, so no entity declarations, no default attributes).
// Line ends are normalized (CRLF, CR → LF) and attribute values whitespace-normalized as the
// spec says, before anything is reported.

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

export class ReaderError extends Error {}

export interface XmlAttr {
  name: string;
  prefix: string;
  local: string;
  uri: string;
  value: string;
}

export interface XmlElement {
  name: string;
  prefix: string;
  local: string;
  uri: string;
  /** In document order, namespace declarations included (uri XMLNS_NS); names are distinct. */
  attributes: readonly XmlAttr[];
}

export interface XmlDecl {
  version: string;
  encoding?: string;
}

/** What the reader reports. `canonical` ranges [from, to) of `src` may be hashed as they are. */
export interface XmlHandler {
  /** `canonical`: the source text is `<name a="v"...>` exactly, attributes in ascending order, no prefix, no declaration, nothing to escape. */
  start(el: XmlElement, src: string, from: number, to: number, canonical: boolean): void;
  /** `canonical`: the source text is `</name>`. */
  end(name: string, src: string, from: number, to: number, canonical: boolean): void;
  /** Character data (CDATA sections included), references resolved. `canonical`: `value` is src[from, to) and needs no escaping. */
  text(value: string, src: string, from: number, to: number, canonical: boolean): void;
  pi(target: string, body: string): void;
  /** A DOCTYPE: the consumer refuses it (throws). */
  doctype(): never;
  /** Only the parts that matter: the reader has checked the rest of its syntax. */
  decl(d: XmlDecl): void;
}

/** Bound on one markup token (tag, comment, PI, CDATA section) held across reads. */
const MAX_TOKEN = 16 * 1024 * 1024;

// Character classes for ASCII: 1 = NameStartChar, 2 = NameChar (colon excluded: QNames are split).
const NAME = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const start = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  const char = start || (c >= 48 && c <= 57) || c === 45 || c === 46;
  NAME[c] = (start ? 1 : 0) | (char ? 2 : 0);
}
const NAME_START_HI = /^[\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]$/u;
const NAME_CHAR_HI = /^[\u00B7\u0300-\u036F\u203F-\u2040]$/u;
/** Not a Char of XML 1.0 (surrogates cannot come out of a fatal UTF-8 decoder unpaired). */
const NOT_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const DECL = /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"([^"]*)"|'([^']*)')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"([A-Za-z][A-Za-z0-9._-]*)"|'([A-Za-z][A-Za-z0-9._-]*)'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?>$/;
const VERSION = /^1\.[0-9]+$/;

function isS(c: number): boolean {
  return c === 32 || c === 10 || c === 9;
}

/** Not done: the token runs past what has been read. */
const MORE = -1;

type Scope = ReadonlyMap<string, string>;
const TOP: Scope = new Map([
  ['xml', XML_NS],
  ['', ''],
]);

export class XmlReader {
  private src = '';
  /** Characters of the document before src (for messages). */
  private base = 0;
  private pendingCR = false;
  private started = false;
  /** 0 before the root, 1 inside it, 2 after it. */
  private where = 0;
  private readonly names: string[] = [];
  private readonly scopes: Scope[] = [];
  private scope: Scope = TOP;
  /** Attribute positions of the last canonical tag: name from/to, value from/to. */
  private readonly marks: number[] = [];

  constructor(private readonly h: XmlHandler) {}

  private fail(message: string, at: number): never {
    throw new ReaderError(`${message} (at character ${this.base + at})`);
  }

  /** Reads the next piece of the document; `final` once there is no more. */
  write(chunk: string, final = false): void {
    let s = chunk;
    if (this.pendingCR) s = `\r${s}`;
    this.pendingCR = !final && s.endsWith('\r');
    if (this.pendingCR) s = s.slice(0, -1);
    if (NOT_CHAR.test(s)) {
      const m = NOT_CHAR.exec(s) as RegExpExecArray;
      this.fail(`character U+${(m[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, this.src.length + m.index);
    }
    if (s.includes('\r')) s = s.replace(/\r\n?/g, '\n');
    this.src = this.src.length === 0 ? s : this.src + s;
    const done = this.run(final);
    this.base += done;
    this.src = done >= this.src.length ? '' : this.src.slice(done);
    if (this.src.length > MAX_TOKEN) this.fail('a single markup token is larger than 16 MiB', 0);
    if (final) {
      if (this.src.length > 0) this.fail('the document ends inside markup', 0);
      if (this.where !== 2) this.fail(this.where === 0 ? 'no root element' : `the document ends inside element ${this.names[this.names.length - 1] ?? ''}`, 0);
    }
  }

  /** Reads whole tokens from src; returns how far it got. */
  private run(final: boolean): number {
    const s = this.src;
    const L = s.length;
    let i = 0;
    if (!this.started) {
      if (L < 6 && !final) return 0;
      this.started = true;
      if (s.startsWith('<?xml') && (L === 5 || isS(s.charCodeAt(5)))) {
        const end = s.indexOf('?>');
        if (end < 0) {
          this.started = false;
          return final ? this.fail('an unterminated XML declaration', 0) : 0;
        }
        const m = DECL.exec(s.slice(0, end + 2));
        if (!m) this.fail('a malformed XML declaration', 0);
        const version = m[1] ?? m[2] ?? '';
        if (!VERSION.test(version)) this.fail(`a malformed XML version ${version}`, 0);
        const encoding = m[3] ?? m[4];
        this.h.decl(encoding === undefined ? { version } : { version, encoding });
        i = end + 2;
      }
    }
    while (i < L) {
      const lt = s.indexOf('<', i);
      if (lt !== i) {
        // character data up to the next markup (or as far as is safe to cut it)
        let to = lt < 0 ? L : lt;
        if (lt < 0 && !final) {
          // all of s from i is text: a "]]>" ending in what is kept back is found with the next read
          if (this.where === 1 && s.includes(']]>', i)) this.fail('"]]>" in character data', s.indexOf(']]>', i));
          to = this.safeTextEnd(s, i, L);
          if (to <= i) return i;
        }
        this.chars(s, i, to);
        i = to;
        continue;
      }
      const c = s.charCodeAt(lt + 1);
      let next: number;
      if (c === 47) next = this.endTag(s, lt);
      else if (c === 33) next = this.bang(s, lt);
      else if (c === 63) next = this.procInst(s, lt);
      else if (lt + 1 >= L) next = MORE;
      else {
        next = this.where === 1 ? this.fastTag(s, lt) : MORE;
        if (next === MORE || next === -2) next = this.tag(s, lt);
      }
      if (next === MORE) {
        if (final) this.fail('the document ends inside markup', lt);
        return lt;
      }
      i = next;
    }
    return i;
  }

  /** Where character data without a following '<' may be cut: not inside a reference, a "]]>" or a surrogate pair. */
  private safeTextEnd(s: string, from: number, L: number): number {
    let to = L - 2;
    if (to > from) {
      const c = s.charCodeAt(to - 1);
      if (c >= 0xd800 && c <= 0xdbff) to--;
    }
    // a reference must end before the cut, or the cut moves before it
    const amp = s.lastIndexOf('&', to - 1);
    if (amp >= from) {
      const semi = s.indexOf(';', amp);
      if (semi < 0 || semi >= to) to = amp;
    }
    return to;
  }

  private chars(s: string, from: number, to: number): void {
    if (this.where !== 1) {
      for (let k = from; k < to; k++) if (!isS(s.charCodeAt(k))) this.fail(this.where === 0 ? 'text before the root element' : 'text after the root element', k);
      return;
    }
    const raw = s.slice(from, to);
    if (raw.includes(']]>')) this.fail('"]]>" in character data', from + raw.indexOf(']]>'));
    if (!raw.includes('&')) {
      this.h.text(raw, s, from, to, !raw.includes('>'));
      return;
    }
    this.h.text(this.references(raw, from, false), s, from, to, false);
  }

  /** Resolves the five predefined entities and character references; `attr`: also normalize whitespace. */
  private references(raw: string, at: number, attr: boolean): string {
    let out = '';
    let k = 0;
    for (;;) {
      const amp = raw.indexOf('&', k);
      const part = amp < 0 ? raw.slice(k) : raw.slice(k, amp);
      out += attr ? part.replace(/[\t\n]/g, ' ') : part;
      if (amp < 0) return out;
      const semi = raw.indexOf(';', amp);
      if (semi < 0) this.fail('"&" that does not start a reference', at + amp);
      const ref = raw.slice(amp + 1, semi);
      if (ref === 'lt') out += '<';
      else if (ref === 'gt') out += '>';
      else if (ref === 'amp') out += '&';
      else if (ref === 'quot') out += '"';
      else if (ref === 'apos') out += "'";
      else if (/^#[0-9]+$|^#x[0-9a-fA-F]+$/.test(ref)) {
        // leading zeros are allowed; a number too large to be a character fails the test below
        const n = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        const ok = n === 9 || n === 10 || n === 13 || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff);
        if (!ok) this.fail(`a character reference &${ref.slice(0, 40)}; to a character XML does not allow`, at + amp);
        out += String.fromCodePoint(n);
      } else this.fail(`a reference to an undeclared entity &${ref.slice(0, 40)};`, at + amp);
      k = semi + 1;
    }
  }

  /** End of a Name starting at i (i itself when there is none); colons included, checked by qname(). */
  private nameEnd(s: string, i: number): number {
    const L = s.length;
    let j = i;
    while (j < L) {
      const c = s.charCodeAt(j);
      if (c < 128) {
        if (c === 58 || (NAME[c] as number) & (j === i ? 1 : 2)) {
          j++;
          continue;
        }
        break;
      }
      const cp = s.codePointAt(j) as number;
      const ch = String.fromCodePoint(cp);
      if (NAME_START_HI.test(ch) || (j > i && NAME_CHAR_HI.test(ch))) {
        j += cp > 0xffff ? 2 : 1;
        continue;
      }
      break;
    }
    return j;
  }

  /** [prefix, local] of a QName; refuses names with more than one colon or an empty part. */
  private qname(name: string, at: number): [string, string] {
    const colon = name.indexOf(':');
    if (colon < 0) return ['', name];
    const local = name.slice(colon + 1);
    // the characters are NameChars already; the local part must also start like a name
    if (colon === 0 || local.length === 0 || local.includes(':') || this.nameEnd(local, 0) !== local.length) this.fail(`${name} is not a qualified name`, at);
    return [name.slice(0, colon), local];
  }

  /**
   * The common case, fast: `<name a="v" b="w">` exactly, no colon, no reference, tab or newline
   * in a value, names ASCII and strictly ascending (so also distinct). Returns -2 when the tag
   * is anything else (then tag() reads it), MORE when it runs past src.
   */
  private fastTag(s: string, lt: number): number {
    const L = s.length;
    let j = lt + 1;
    if (j >= L) return MORE;
    if (!((NAME[s.charCodeAt(j)] ?? 0) & 1)) return -2;
    j++;
    while (j < L && (NAME[s.charCodeAt(j)] ?? 0) & 2) j++;
    if (j >= L) return MORE;
    const nameTo = j;
    const marks = this.marks;
    marks.length = 0;
    let lastFrom = -1;
    let lastTo = -1;
    for (;;) {
      const c = s.charCodeAt(j);
      if (c === 62) break;
      if (c !== 32) return -2;
      j++;
      if (j >= L) return MORE;
      const an = j;
      if (!((NAME[s.charCodeAt(j)] ?? 0) & 1)) return -2;
      j++;
      while (j < L && (NAME[s.charCodeAt(j)] ?? 0) & 2) j++;
      if (j + 1 >= L) return MORE;
      if (s.charCodeAt(j) !== 61 || s.charCodeAt(j + 1) !== 34) return -2;
      // strictly ascending (so distinct) and not xmlns, compared in place: no string per attribute
      if ((j - an === 5 && s.startsWith('xmlns', an)) || (lastFrom >= 0 && !ascending(s, lastFrom, lastTo, an, j))) return -2;
      lastFrom = an;
      lastTo = j;
      const vs = j + 2;
      let ve = vs;
      for (;;) {
        if (ve >= L) return MORE;
        const v = s.charCodeAt(ve);
        if (v === 34) break;
        if (v === 60 || v === 38 || v === 9 || v === 10) return -2; // '<' (refused by tag()), a reference, whitespace to normalize
        ve++;
      }
      marks.push(an, j, vs, ve);
      j = ve + 1;
      if (j >= L) return MORE;
    }
    const name = s.slice(lt + 1, nameTo);
    this.open({ name, prefix: '', local: name, uri: this.scope.get('') ?? '', attributes: LAZY }, s, lt, j + 1, true, false);
    return j + 1;
  }

  /** The attributes of the last fastTag, as objects (only asked for inside the Signature, or when a namespace must be declared). */
  fastAttributes(s: string): XmlAttr[] {
    const out: XmlAttr[] = [];
    const m = this.marks;
    for (let k = 0; k < m.length; k += 4) {
      const name = s.slice(m[k] as number, m[k + 1] as number);
      out.push({ name, prefix: '', local: name, uri: '', value: s.slice(m[k + 2] as number, m[k + 3] as number) });
    }
    return out;
  }

  /** Any start tag, read by the grammar. */
  private tag(s: string, lt: number): number {
    const L = s.length;
    if (this.where === 2) this.fail('a second root element', lt);
    const nameTo = this.nameEnd(s, lt + 1);
    if (nameTo === lt + 1) this.fail('"<" not followed by a name', lt);
    if (nameTo >= L) return MORE;
    const name = s.slice(lt + 1, nameTo);
    const raw: { name: string; value: string; at: number }[] = [];
    let j = nameTo;
    let selfClosing = false;
    for (;;) {
      const sp = j;
      while (j < L && isS(s.charCodeAt(j))) j++;
      if (j >= L) return MORE;
      const c = s.charCodeAt(j);
      if (c === 62) break;
      if (c === 47) {
        if (j + 1 >= L) return MORE;
        if (s.charCodeAt(j + 1) !== 62) this.fail('"/" not followed by ">" in a tag', j);
        selfClosing = true;
        j++;
        break;
      }
      if (j === sp) this.fail('attributes must be separated by whitespace', j);
      const an = j;
      j = this.nameEnd(s, j);
      if (j === an) this.fail(`unexpected character ${JSON.stringify(s[j])} in tag ${name}`, j);
      if (j >= L) return MORE;
      const aname = s.slice(an, j);
      while (j < L && isS(s.charCodeAt(j))) j++;
      if (j >= L) return MORE;
      if (s.charCodeAt(j) !== 61) this.fail(`attribute ${aname} has no value`, j);
      j++;
      while (j < L && isS(s.charCodeAt(j))) j++;
      if (j >= L) return MORE;
      const q = s.charCodeAt(j);
      if (q !== 34 && q !== 39) this.fail(`the value of attribute ${aname} is not quoted`, j);
      const ve = s.indexOf(q === 34 ? '"' : "'", j + 1);
      if (ve < 0) return MORE;
      const v = s.slice(j + 1, ve);
      if (v.includes('<')) this.fail(`"<" in the value of attribute ${aname}`, j + 1 + v.indexOf('<'));
      raw.push({ name: aname, value: v.includes('&') ? this.references(v, j + 1, true) : v.replace(/[\t\n]/g, ' '), at: an });
      j = ve + 1;
    }
    const end = j + 1;

    // namespaces: this element's declarations first, then its name and its attributes
    let scope = this.scope;
    for (const a of raw) {
      if (a.name === 'xmlns') {
        if (a.value === XML_NS || a.value === XMLNS_NS) this.fail(`the default namespace cannot be ${a.value}`, a.at);
        scope = bind(scope, '', a.value);
      } else if (a.name.startsWith('xmlns:')) {
        const [, p] = this.qname(a.name, a.at);
        if (p === 'xmlns') this.fail('the prefix xmlns cannot be declared', a.at);
        if (p === 'xml' ? a.value !== XML_NS : a.value === XML_NS) this.fail(`the prefix xml is bound to ${XML_NS} and nothing else is`, a.at);
        if (a.value === XMLNS_NS) this.fail(`no prefix can be bound to ${XMLNS_NS}`, a.at);
        if (a.value === '') this.fail(`prefix ${p} declared empty (XML 1.0 namespaces cannot undeclare a prefix)`, a.at);
        scope = bind(scope, p, a.value);
      }
    }
    const [prefix, local] = this.qname(name, lt + 1);
    if (prefix === 'xmlns') this.fail(`element ${name}: the prefix xmlns is reserved`, lt + 1);
    const uri = scope.get(prefix);
    if (uri === undefined) this.fail(`element ${name}: prefix ${prefix} is not declared`, lt + 1);
    if (prefix !== '' && uri === '') this.fail(`element ${name}: prefix ${prefix} is not declared`, lt + 1);
    const attributes: XmlAttr[] = [];
    let expanded: Set<string> | undefined; // namespace + local name of the prefixed attributes
    const names = raw.length > 16 ? new Set<string>() : undefined; // a few: compared pairwise; many: a set (no quadratic time)
    for (const a of raw) {
      if (names === undefined) {
        for (const b of attributes) if (b.name === a.name) this.fail(`attribute ${a.name} appears twice on ${name}`, a.at);
      } else if (names.has(a.name)) this.fail(`attribute ${a.name} appears twice on ${name}`, a.at);
      else names.add(a.name);
      let attr: XmlAttr;
      if (a.name === 'xmlns') attr = { name: a.name, prefix: '', local: 'xmlns', uri: XMLNS_NS, value: a.value };
      else {
        const [ap, al] = this.qname(a.name, a.at);
        let au = '';
        if (ap === 'xmlns') au = XMLNS_NS;
        else if (ap !== '') {
          const bound = scope.get(ap);
          if (bound === undefined || bound === '') this.fail(`attribute ${a.name}: prefix ${ap} is not declared`, a.at);
          au = bound;
          const key = `${au}\u0000${al}`;
          if (expanded?.has(key)) this.fail(`attribute ${a.name} on ${name} repeats another one's namespace and local name`, a.at);
          (expanded ??= new Set()).add(key);
        }
        attr = { name: a.name, prefix: ap, local: al, uri: au, value: a.value };
      }
      attributes.push(attr);
    }
    if (this.where === 0) this.where = 1;
    this.open({ name, prefix, local, uri, attributes }, s, lt, end, false, selfClosing, scope);
    return end;
  }

  private open(el: XmlElement, s: string, from: number, to: number, canonical: boolean, selfClosing: boolean, scope: Scope = this.scope): void {
    this.names.push(el.name);
    this.scopes.push(this.scope);
    this.scope = scope;
    this.h.start(el, s, from, to, canonical);
    if (selfClosing) this.close(el.name, s, to, to, false);
  }

  private close(name: string, s: string, from: number, to: number, canonical: boolean): void {
    this.names.pop();
    this.scope = this.scopes.pop() ?? TOP;
    this.h.end(name, s, from, to, canonical);
    if (this.names.length === 0) this.where = 2;
  }

  private endTag(s: string, lt: number): number {
    const name = this.names[this.names.length - 1];
    if (name === undefined) this.fail('an end tag outside the root element', lt);
    const L = s.length;
    const at = lt + 2;
    if (L < at + name.length + 1) return MORE;
    let j = at + name.length;
    const after = s.charCodeAt(j); // '>' or whitespace right after the name: it is the whole name
    if (!s.startsWith(name, at) || (after !== 62 && !isS(after) && this.nameEnd(s, at) !== j)) {
      const got = s.slice(at, Math.min(this.nameEnd(s, at), at + 100));
      if (this.nameEnd(s, at) >= L) return MORE;
      this.fail(`end tag ${got} does not match start tag ${name}`, lt);
    }
    const canonical = s.charCodeAt(j) === 62;
    while (j < L && isS(s.charCodeAt(j))) j++;
    if (j >= L) return MORE;
    if (s.charCodeAt(j) !== 62) this.fail(`end tag ${name} is not closed by ">"`, j);
    this.close(name, s, lt, j + 1, canonical);
    return j + 1;
  }

  /** `<!`: a comment, a CDATA section (inside the root), or a DOCTYPE (refused). */
  private bang(s: string, lt: number): number {
    const L = s.length;
    if (s.startsWith('<!--', lt)) {
      const dd = s.indexOf('--', lt + 4);
      if (dd < 0 || dd + 2 >= L) return MORE;
      if (s.charCodeAt(dd + 2) !== 62) this.fail('"--" inside a comment', dd);
      return dd + 3; // comments are not part of the canonical form without comments
    }
    if (L < lt + 9) return MORE;
    if (s.startsWith('<![CDATA[', lt)) {
      if (this.where !== 1) this.fail('a CDATA section outside the root element', lt);
      const end = s.indexOf(']]>', lt + 9);
      if (end < 0) return MORE;
      this.h.text(s.slice(lt + 9, end), s, lt, end + 3, false);
      return end + 3;
    }
    if (s.startsWith('<!DOCTYPE', lt)) this.h.doctype();
    return this.fail('"<!" that starts neither a comment nor a CDATA section', lt);
  }

  private procInst(s: string, lt: number): number {
    const L = s.length;
    const to = this.nameEnd(s, lt + 2);
    if (to >= L) return MORE;
    const target = s.slice(lt + 2, to);
    if (target.length === 0) this.fail('a processing instruction without a target', lt);
    if (target.includes(':')) this.fail(`processing instruction target ${target} contains a colon`, lt);
    if (target.toLowerCase() === 'xml') this.fail('an XML declaration (or a processing instruction named xml) past the start of the document', lt);
    const end = s.indexOf('?>', to);
    if (end < 0) return MORE;
    let b = to;
    if (end !== to) {
      if (!isS(s.charCodeAt(to))) this.fail(`processing instruction target ${target} not followed by whitespace`, to);
      while (b < end && isS(s.charCodeAt(b))) b++;
    }
    this.h.pi(target, s.slice(b, end));
    return end + 2;
  }

}

/** s[a, b) < s[c, d) by UTF-16 code units (the names compared are ASCII). */
function ascending(s: string, a: number, b: number, c: number, d: number): boolean {
  const n = Math.min(b - a, d - c);
  for (let k = 0; k < n; k++) {
    const x = s.charCodeAt(a + k);
    const y = s.charCodeAt(c + k);
    if (x !== y) return x < y;
  }
  return b - a < d - c;
}

function bind(scope: Scope, prefix: string, uri: string): Scope {
  if (scope.get(prefix) === uri) return scope;
  const next = new Map(scope);
  next.set(prefix, uri);
  return next;
}

/** The attributes of a canonical tag are not built unless asked for (XmlReader.fastAttributes). */
const LAZY: readonly XmlAttr[] = Object.freeze([]);
export function isLazy(a: readonly XmlAttr[]): boolean {
  return a === LAZY;
}
