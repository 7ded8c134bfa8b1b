// Streaming verification of a signed response (or notification) file.
//
// The document is read by a strict streaming reader of our own (xmlReader.ts, no DOM; see there
// why not saxes) and re-canonicalized on the fly: exclusive C14N without comments of the whole
// document, with the enveloped ds:Signature element left out. That canonical text is hashed in
// pieces (64 KiB, or the reader's own text where it is canonical as written), so memory does not
// grow with the file.
// The Signature element (small, bounded below) is kept as a tiny tree; its SignedInfo is
// re-canonicalized from what was parsed - the bytes in the file are never trusted as such.
//
// The canonicalizer here is written independently of the writer's (c14n.ts) on purpose, so
// the two do not share a blind spot; xmlsec1 and xml-crypto in the tests are the outside check.

import { createHash, verify as rsaVerify, X509Certificate, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { isLazy, ReaderError, XmlReader, XMLNS_NS, type XmlAttr, type XmlElement } from './xmlReader.js';
import { ALG_ENVELOPED, ALG_EXC_C14N, ALG_RSA_SHA256, ALG_SHA256, DS_NS } from './sign.js';
import { LDM_NS } from './writer.js';

/** Our documents nest 6 deep; a bound keeps a hostile file from growing the element stack. */
const MAX_DEPTH = 64;
/** Bound on the retained Signature subtree (a real one is ~2.5 KB). */
const MAX_SIGNATURE_CHARS = 256 * 1024;
const HASH_CHUNK = 64 * 1024;

export type VerifyResult =
  | {
      ok: true;
      /** Header/InReplyTo (responses), Header/ExtractId (extracts) or Header/NotificationId (notifications), when present. */
      fileId?: string;
      recordCount: number;
      /** Subject and SHA-256 fingerprint of the certificate in KeyInfo, for the operator. */
      signerSubject: string;
      signerFingerprint256: string;
      /** True only when the KeyInfo certificate is the trusted one and was valid at the signing time. */
      trusted: boolean;
      /** Header/ProcessedAt (responses) or Header/CreatedAt (notifications): the signing time. */
      signedAt?: string;
    }
  | { ok: false; reason: string };

export interface VerifyOptions {
  /**
   * PEM of the certificate the signature must have been made with; it must have been valid at
   * the document's ProcessedAt. Without it, only integrity is checked and the result says
   * `trusted: false` (anyone can sign anything with their own certificate).
   */
  trustedCertPem?: string;
}

// ------------------------------------------------------------------------ exc-c14n rendering

function escText(s: string): string {
  return /[&<>\r]/.test(s)
    ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;')
    : s;
}

function escAttr(s: string): string {
  return /[&<"\t\n\r]/.test(s)
    ? s
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/"/g, '&quot;')
        .replace(/\t/g, '&#x9;')
        .replace(/\n/g, '&#xA;')
        .replace(/\r/g, '&#xD;')
    : s;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(x: XmlAttr, y: XmlAttr): number {
  return cmp(x.name, y.name);
}

function byUriLocal(x: XmlAttr, y: XmlAttr): number {
  return cmp(x.uri, y.uri) || cmp(x.local, y.local);
}

/** prefix ('' = default) → namespace URI. A Map, so that odd prefixes like __proto__ are just keys. */
type Bindings = ReadonlyMap<string, string>;

/** Does exc-c14n render a declaration for this visibly utilized prefix here? */
function needsDecl(parent: Bindings, added: Bindings | undefined, prefix: string, uri: string): boolean {
  if (prefix === 'xml') return false; // the xml namespace is never declared
  // An unprefixed element in no namespace needs xmlns="" only under a rendered default namespace.
  const inScope = added?.get(prefix) ?? parent.get(prefix) ?? (prefix === '' ? '' : undefined);
  return inScope !== uri;
}

function piText(target: string, body: string): string {
  return body === '' ? `<?${target}?>` : `<?${target} ${body}?>`;
}

interface ElementLike {
  name: string;
  prefix: string;
  uri: string;
  /** In document order, namespace declarations included. */
  attributes: readonly XmlAttr[];
}

/**
 * Start/end tags in exc-c14n form. Tracks, per open element, the namespace bindings rendered
 * on output ancestors, so a prefix is declared where it is first visibly utilized (the element's
 * own prefix, or an attribute's) and not again below unless rebound. No InclusiveNamespaces.
 */
class ExcC14n {
  /** Bindings rendered on output ancestors; '' is the default namespace ('' = none). */
  private rendered: Bindings = new Map([['', '']]);
  private readonly saved: Bindings[] = [];

  start(el: ElementLike): string {
    return this.startTag(el.name, el.prefix, el.uri, el.attributes);
  }

  /**
   * Hot path (once per element of a large file). The attributes are rendered into one array and
   * joined, so the hashed text holds a few flat strings per tag, not a deep rope of small pieces
   * (flattening those cost as much as parsing); they are sorted only when not already in order.
   */
  startTag(name: string, prefix: string, uri: string, attributes: readonly XmlAttr[]): string {
    const parent = this.rendered;
    let added: Map<string, string> | undefined;
    if (needsDecl(parent, undefined, prefix, uri)) added = new Map([[prefix, uri]]);
    const attrs: XmlAttr[] = [];
    let qualified = false;
    let ordered = true;
    let last = '';
    for (const a of attributes) {
      if (a.uri === XMLNS_NS) continue; // declarations are re-derived from utilization
      if (a.prefix !== '') {
        qualified = true;
        if (needsDecl(parent, added, a.prefix, a.uri)) (added ??= new Map()).set(a.prefix, a.uri);
      }
      if (a.name < last) ordered = false;
      last = a.name;
      attrs.push(a);
    }
    const parts: string[] = ['<', name];
    if (added !== undefined) {
      const next = new Map(parent);
      for (const [p, u] of [...added].sort((x, y) => cmp(x[0], y[0]))) {
        parts.push(p === '' ? ' xmlns="' : ` xmlns:${p}="`, escAttr(u), '"');
        next.set(p, u);
      }
      this.rendered = next;
    }
    // Sorted by (namespace URI, local name); without prefixed attributes that is the plain name.
    if (attrs.length > 1 && (qualified || !ordered)) attrs.sort(qualified ? byUriLocal : byName);
    for (const a of attrs) parts.push(' ', a.name, '="', escAttr(a.value), '"');
    parts.push('>');
    this.saved.push(parent);
    return parts.join('');
  }

  /** A start tag the reader found canonical as written: rendered as is when it needs no declaration. */
  startsAsWritten(prefix: string, uri: string): boolean {
    if (needsDecl(this.rendered, undefined, prefix, uri)) return false;
    this.saved.push(this.rendered);
    return true;
  }

  end(name: string): string {
    this.rendered = this.saved.pop() ?? new Map([['', '']]);
    return `</${name}>`;
  }
}

// ------------------------------------------------------------------------ the Signature subtree

interface SigElement extends ElementLike {
  local: string;
  children: SigNode[];
}
type SigNode = SigElement | { text: string } | { pi: string };

function isElement(n: SigNode): n is SigElement {
  return 'children' in n;
}

function c14nSubtree(root: SigElement): string {
  const c = new ExcC14n();
  let out = '';
  const walk = (el: SigElement): void => {
    out += c.start(el);
    for (const ch of el.children) {
      if (isElement(ch)) walk(ch);
      else if ('text' in ch) out += escText(ch.text);
      else out += ch.pi;
    }
    out += c.end(el.name);
  };
  walk(root);
  return out;
}

class Invalid extends Error {}

function dsChildren(el: SigElement): SigElement[] {
  const kids = el.children.filter(isElement);
  for (const k of kids) {
    if (k.uri !== DS_NS) throw new Invalid(`unexpected element ${k.name} in ds:${el.local}`);
  }
  return kids;
}

/** The one child of `el`, which must be ds:`local`; anything else beside it is refused. */
function only(el: SigElement, local: string): SigElement {
  const kids = dsChildren(el);
  if (kids.length !== 1 || kids[0]?.local !== local) {
    throw new Invalid(`ds:${el.local} must contain exactly one ds:${local} and nothing else (found ${kids.map((k) => k.name).join(', ') || 'nothing'})`);
  }
  return kids[0] as SigElement;
}

/** Which attributes each element of contract §7's Signature may carry (namespace declarations aside). */
const ALLOWED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  Signature: [],
  SignedInfo: [],
  CanonicalizationMethod: ['Algorithm'],
  SignatureMethod: ['Algorithm'],
  Reference: ['URI'],
  Transforms: [],
  Transform: ['Algorithm'],
  DigestMethod: ['Algorithm'],
  DigestValue: [],
  SignatureValue: [],
  KeyInfo: [],
  X509Data: [],
  X509Certificate: [],
};

/**
 * Contract §7 allows exactly one shape of Signature: every element under it is one of the
 * list above, carries only its own attributes, and holds no text beside its elements (only
 * the value elements hold text), no processing instruction. Whatever else a forger wraps in
 * (a ds:Object with business data, a KeyName, a nested Signature, an Id) is refused here,
 * before any cryptography, so no consumer ever reads unsigned data from a valid response.
 */
function assertExactShape(el: SigElement, parent?: SigElement): void {
  const allowed = ALLOWED_ATTRIBUTES[el.local];
  if (el.uri !== DS_NS || allowed === undefined || (parent !== undefined && el.local === 'Signature')) throw new Invalid(`unexpected element ${el.name} in ${parent ? `ds:${parent.local}` : 'the Signature'} (contract §7 allows nothing else)`);
  for (const a of el.attributes) {
    if (a.uri === XMLNS_NS || a.name === 'xmlns') continue;
    if (a.prefix !== '' || !allowed.includes(a.local)) throw new Invalid(`unexpected attribute ${a.name} on ds:${el.local}`);
  }
  const holdsText = el.local === 'DigestValue' || el.local === 'SignatureValue' || el.local === 'X509Certificate';
  for (const c of el.children) {
    if (isElement(c)) {
      if (holdsText) throw new Invalid(`ds:${el.local} must contain text only`);
      assertExactShape(c, el);
    } else if ('pi' in c) throw new Invalid(`a processing instruction inside ds:${el.local}`);
    else if (!holdsText && !/^[ \t\r\n]*$/.test(c.text)) throw new Invalid(`unexpected text inside ds:${el.local}`);
  }
}

function textOf(el: SigElement): string {
  if (el.children.some(isElement)) throw new Invalid(`ds:${el.local} must contain text only`);
  return el.children.map((c) => ('text' in c ? c.text : '')).join('');
}

function attr(el: SigElement, name: string): string | undefined {
  return el.attributes.find((a) => a.name === name)?.value;
}

function algorithm(el: SigElement, expected: string): void {
  const alg = attr(el, 'Algorithm');
  if (alg !== expected) throw new Invalid(`ds:${el.local} Algorithm must be ${expected}, found ${alg ?? 'none'}`);
  // Parameters (InclusiveNamespaces, HMACOutputLength, XPath...) would change the meaning.
  if (el.children.some(isElement)) throw new Invalid(`ds:${el.local} must not have parameters`);
}

function base64(el: SigElement): Buffer {
  const s = textOf(el).replace(/[ \t\r\n]/g, '');
  if (s.length === 0 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) {
    throw new Invalid(`ds:${el.local} is not valid base64`);
  }
  return Buffer.from(s, 'base64');
}

interface ParsedSignature {
  signedInfoC14n: string;
  digest: Buffer;
  signatureValue: Buffer;
  cert: X509Certificate;
}

function readSignature(sig: SigElement): ParsedSignature {
  assertExactShape(sig);
  const kids = dsChildren(sig);
  const names = kids.map((k) => k.local).join(',');
  if (names !== 'SignedInfo,SignatureValue,KeyInfo') {
    throw new Invalid(`ds:Signature must contain SignedInfo, SignatureValue, KeyInfo in that order (found ${names})`);
  }
  const [signedInfo, signatureValue, keyInfo] = kids as [SigElement, SigElement, SigElement];
  const siKids = dsChildren(signedInfo);
  if (siKids.map((k) => k.local).join(',') !== 'CanonicalizationMethod,SignatureMethod,Reference') {
    throw new Invalid('ds:SignedInfo must contain CanonicalizationMethod, SignatureMethod and exactly one Reference');
  }
  const [c14nMethod, sigMethod, reference] = siKids as [SigElement, SigElement, SigElement];
  algorithm(c14nMethod, ALG_EXC_C14N);
  algorithm(sigMethod, ALG_RSA_SHA256);
  if (attr(reference, 'URI') !== '') throw new Invalid('the Reference must have URI="" (the whole document)');
  const refKids = dsChildren(reference);
  if (refKids.map((k) => k.local).join(',') !== 'Transforms,DigestMethod,DigestValue') {
    throw new Invalid('ds:Reference must contain Transforms, DigestMethod, DigestValue');
  }
  const [transforms, digestMethod, digestValue] = refKids as [SigElement, SigElement, SigElement];
  const tr = dsChildren(transforms);
  if (dsChildren(signedInfo).length !== 3 || tr.length !== 2 || tr.some((t) => t.local !== 'Transform')) {
    throw new Invalid('ds:Transforms must be enveloped-signature then exclusive C14N');
  }
  algorithm(tr[0] as SigElement, ALG_ENVELOPED);
  algorithm(tr[1] as SigElement, ALG_EXC_C14N);
  algorithm(digestMethod, ALG_SHA256);

  const x509Data = only(keyInfo, 'X509Data');
  const certEl = only(x509Data, 'X509Certificate');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(base64(certEl));
  } catch (err) {
    if (err instanceof Invalid) throw err;
    throw new Invalid('ds:X509Certificate is not a valid X.509 certificate');
  }
  return {
    signedInfoC14n: c14nSubtree(signedInfo),
    digest: base64(digestValue),
    signatureValue: base64(signatureValue),
    cert,
  };
}

// ------------------------------------------------------------------------ the streaming pass

interface Scan {
  digest: Buffer;
  signature: SigElement;
  fileId?: string;
  recordCount?: string;
  signedAt?: string;
}

/** Parses the file once, hashing its canonical form minus the Signature; returns what it found. */
async function scan(path: string): Promise<Scan> {
  return scanSource(path, createReadStream(path, { highWaterMark: 1 << 20 }));
}

/** scan() over any source of bytes; `path` names it in messages. */
async function scanSource(path: string, source: AsyncIterable<Buffer | string> | Iterable<Buffer>): Promise<Scan> {
  const c14n = new ExcC14n();
  const hash: Hash = createHash('sha256');
  // The canonical text: computed pieces in buf, and source text that is canonical as written
  // (the writer's own layout, nearly all of a response) as a pending range of the reader's text,
  // extended while the ranges are contiguous, and hashed without being copied piece by piece.
  let buf = '';
  let rawSrc = '';
  let rawFrom = 0;
  let rawTo = 0;
  const flushRaw = (): void => {
    if (rawTo - rawFrom >= 4096) {
      if (buf.length > 0) hash.update(buf, 'utf8');
      buf = '';
      hash.update(rawSrc.slice(rawFrom, rawTo), 'utf8');
    } else if (rawTo > rawFrom) buf += rawSrc.slice(rawFrom, rawTo);
    rawSrc = '';
    rawFrom = rawTo = 0;
  };
  const emit = (s: string): void => {
    if (rawTo > rawFrom) flushRaw();
    buf += s;
    if (buf.length >= HASH_CHUNK) {
      hash.update(buf, 'utf8');
      buf = '';
    }
  };
  const emitRaw = (src: string, from: number, to: number): void => {
    if (from === rawTo && src === rawSrc) rawTo = to;
    else {
      flushRaw();
      rawSrc = src;
      rawFrom = from;
      rawTo = to;
    }
  };

  const openNames: string[] = []; // local names of the open elements (root first)
  let rootClosed = false;
  let signature: SigElement | undefined;
  let sigStack: SigElement[] = []; // open elements inside the Signature
  let sigChars = 0;
  let afterSignature = false;
  let fileId: string | undefined;
  let recordCount: string | undefined;
  let signedAt: string | undefined;
  let captureTo: 'fileId' | 'recordCount' | 'signedAt' | undefined;

  const sigBudget = (n: number): void => {
    sigChars += n;
    if (sigChars > MAX_SIGNATURE_CHARS) throw new Invalid('the Signature element is implausibly large');
  };

  const reader: XmlReader = new XmlReader({
    decl(d) {
      if (d.version !== '1.0') throw new Invalid(`XML version ${d.version} is not accepted`);
      if (d.encoding !== undefined && !/^utf-?8$/i.test(d.encoding)) {
        throw new Invalid(`encoding ${d.encoding} is not accepted (responses are UTF-8)`);
      }
    },
    doctype() {
      throw new Invalid('a DOCTYPE is not allowed in a response');
    },
    pi(target, body) {
      const pi = piText(target, body);
      const sig = sigStack[sigStack.length - 1];
      if (sig !== undefined) {
        sigBudget(pi.length);
        sig.children.push({ pi });
      } else if (openNames.length > 0) emit(pi);
      else emit(rootClosed ? `\n${pi}` : `${pi}\n`); // C14N: PIs outside the root, separated by LF
    },
    text(t, src, from, to, canonical) {
      // (the reader reports no text outside the root: only whitespace may be there, not canonical)
      if (sigStack.length > 0) {
        const sig = sigStack[sigStack.length - 1] as SigElement;
        sigBudget(t.length);
        sig.children.push({ text: t });
        return;
      }
      if (captureTo === 'fileId') fileId = (fileId ?? '') + t;
      else if (captureTo === 'recordCount') recordCount = (recordCount ?? '') + t;
      else if (captureTo === 'signedAt') signedAt = (signedAt ?? '') + t;
      if (canonical) emitRaw(src, from, to);
      else emit(escText(t));
    },
    start(tag: XmlElement, src, from, to, canonical) {
      const depth = openNames.length; // depth of the new element's parent chain
      if (depth >= MAX_DEPTH) throw new Invalid('elements are nested too deeply');
      openNames.push(tag.local);
      captureTo = undefined;
      const attributes = (): readonly XmlAttr[] => (isLazy(tag.attributes) ? reader.fastAttributes(src) : tag.attributes);

      if (sigStack.length > 0 || (tag.uri === DS_NS && tag.local === 'Signature')) {
        const el: SigElement = {
          name: tag.name,
          prefix: tag.prefix,
          uri: tag.uri,
          local: tag.local,
          attributes: attributes(),
          children: [],
        };
        const parentSig = sigStack[sigStack.length - 1];
        if (parentSig !== undefined) {
          sigBudget(tag.name.length + el.attributes.reduce((n, a) => n + a.name.length + a.value.length, 0));
          parentSig.children.push(el);
          sigStack.push(el);
          return;
        }
        if (depth !== 1) throw new Invalid('a ds:Signature may only appear as the last child of the root');
        if (signature !== undefined) throw new Invalid('more than one ds:Signature');
        signature = el;
        sigStack = [el];
        return; // enveloped-signature transform: the element and its content are not hashed
      }
      if (depth === 0) {
        if (tag.uri !== LDM_NS) throw new Invalid(`the root element is not in namespace ${LDM_NS}`);
      } else if (signature !== undefined && depth === 1) {
        afterSignature = true;
      }
      if (depth === 2 && openNames[1] === 'Header' && (tag.local === 'InReplyTo' || tag.local === 'ExtractId' || tag.local === 'FileId' || tag.local === 'NotificationId')) {
        captureTo = 'fileId';
      } else if (depth === 2 && openNames[1] === 'Header' && (tag.local === 'ProcessedAt' || (tag.local === 'CreatedAt' && openNames[0] === 'BatchNotification'))) {
        captureTo = 'signedAt';
      } else if (depth === 2 && openNames[1] === 'Trailer' && tag.local === 'RecordCount') {
        captureTo = 'recordCount';
      }
      if (canonical && c14n.startsAsWritten(tag.prefix, tag.uri)) emitRaw(src, from, to);
      else emit(c14n.startTag(tag.name, tag.prefix, tag.uri, attributes()));
    },
    end(name, src, from, to, canonical) {
      openNames.pop();
      captureTo = undefined;
      if (sigStack.length > 0) {
        sigStack.pop();
        return;
      }
      const close = c14n.end(name);
      if (canonical) emitRaw(src, from, to);
      else emit(close);
      if (openNames.length === 0) rootClosed = true;
    },
  });

  // fatal: true so that a corrupted byte is an error, not a silent U+FFFD.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of source) {
      reader.write(decoder.decode(chunk as Buffer, { stream: true }));
    }
    reader.write(decoder.decode(), true);
  } catch (err) {
    if (err instanceof Invalid) throw err;
    if (err instanceof ReaderError) throw new Invalid(`not well-formed XML: ${err.message}`);
    if (err instanceof TypeError && /decode|encoded/i.test(err.message)) throw new Invalid('the file is not valid UTF-8');
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new Invalid(`cannot read ${path}: ${(err as Error).message}`);
    throw err;
  }
  if (signature === undefined) throw new Invalid('the document has no ds:Signature (child of the root)');
  if (afterSignature) throw new Invalid('the ds:Signature must be the last element of the root');
  flushRaw();
  if (buf.length > 0) hash.update(buf, 'utf8');
  return { digest: hash.digest(), signature, fileId, recordCount, signedAt };
}

/**
 * The canonical digest (hex) of a document given in pieces, or the reason it is refused. For
 * tests: the pieces may split it anywhere (inside a tag, a reference, a character, a CRLF).
 */
export async function digestOfPieces(pieces: Iterable<Buffer>): Promise<string> {
  try {
    return (await scanSource('pieces', pieces)).digest.toString('hex');
  } catch (err) {
    if (err instanceof Invalid) return `refused: ${err.message}`;
    throw err;
  }
}

/**
 * The checks once the document's digest is known (both paths): DigestValue, the RSA-SHA256
 * signature over the canonical SignedInfo, the trusted certificate when given, RecordCount.
 */
function judge(found: Scan, digest: Buffer, sig: ParsedSignature, trusted: X509Certificate | undefined): VerifyResult {
  if (!digest.equals(sig.digest)) {
    return { ok: false, reason: 'digest mismatch: the signed content of the document was changed' };
  }
  if (sig.cert.publicKey.asymmetricKeyType !== 'rsa') {
    return { ok: false, reason: 'the KeyInfo certificate does not hold an RSA key' };
  }
  const good = rsaVerify('sha256', Buffer.from(sig.signedInfoC14n, 'utf8'), sig.cert.publicKey, sig.signatureValue);
  if (!good) {
    return { ok: false, reason: 'signature mismatch: SignatureValue does not verify with the KeyInfo certificate' };
  }
  if (trusted !== undefined && !trusted.raw.equals(sig.cert.raw)) {
    return {
      ok: false,
      reason:
        `signed with an untrusted certificate (${sig.cert.subject.replace(/\n/g, ', ')}, ` +
        `SHA-256 ${sig.cert.fingerprint256}); expected ${trusted.subject.replace(/\n/g, ', ')}, SHA-256 ${trusted.fingerprint256}`,
    };
  }
  const signedAt = found.signedAt?.trim();
  if (trusted !== undefined) {
    const at = signedAt !== undefined && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(signedAt) ? Date.parse(signedAt) : NaN;
    if (Number.isNaN(at)) return { ok: false, reason: 'the Header has no valid ProcessedAt (or CreatedAt) to check the certificate’s validity at' };
    const from = Date.parse(trusted.validFrom);
    const to = Date.parse(trusted.validTo);
    if (at < from || at > to) {
      return { ok: false, reason: `the signing certificate was not valid at ProcessedAt ${signedAt} (valid from ${new Date(from).toISOString()} to ${new Date(to).toISOString()})` };
    }
  }
  const rc = found.recordCount?.trim();
  if (rc === undefined || !/^\d+$/.test(rc)) {
    return { ok: false, reason: 'the Trailer has no valid RecordCount' };
  }
  return {
    ok: true,
    ...(found.fileId === undefined ? {} : { fileId: found.fileId }),
    recordCount: Number(rc),
    signerSubject: sig.cert.subject.replace(/\n/g, ', '),
    signerFingerprint256: sig.cert.fingerprint256,
    trusted: trusted !== undefined,
    ...(signedAt === undefined ? {} : { signedAt }),
  };
}

/**
 * Checks a signed response: canonical digest, RSA-SHA256 signature over the canonical SignedInfo
 * with the KeyInfo certificate, and - when `trustedCertPem` is given - that this certificate is
 * the trusted one (same DER bytes). Without `trustedCertPem` only integrity is proven: anyone
 * can make a self-consistent signature with their own certificate.
 * Never throws for a bad file; returns `{ ok: false, reason }`.
 */
export async function verifyResponse(path: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  try {
    let trusted: X509Certificate | undefined;
    if (opts.trustedCertPem !== undefined) {
      try {
        trusted = new X509Certificate(opts.trustedCertPem);
      } catch {
        return { ok: false, reason: 'the trusted certificate given is not a PEM X.509 certificate' };
      }
      const fast = await verifyOwnLayout(path, trusted);
      if (fast !== undefined) return fast;
    }
    const found = await scan(path);
    return judge(found, found.digest, readSignature(found.signature), trusted);
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: err.message };
    throw err;
  }
}

// ------------------------------------------------------------------------ the fast path

const OWN_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const OWN_ROOT = /^<(BatchResponse|BatchNotification) xmlns="urn:ldm-batch:v1">/;
const HEAD_BYTES = 64 * 1024;

/**
 * A file exactly in the layout our writer produces (writer.ts), checked against a trusted
 * certificate, without parsing its body: our writer writes the body in canonical form, so the
 * bytes from the root's start tag up to the Signature, followed by the root's end tag, are what
 * the DigestValue covers. They are hashed as they are; then the Signature (and the Header and
 * Trailer, for the FileId and RecordCount) are read by the streaming checker above, from a
 * small document made of those elements alone, and SignedInfo is checked as always.
 *
 * Only ever accepts: undefined (not our layout, a digest that does not match the raw bytes,
 * anything unexpected) means "check the whole document" (scan), which then decides. So a
 * re-serialized but equivalent document still verifies, and every rejection and its reason
 * come from the full check. Acceptance here relies on the trusted signer having signed the
 * canonical form of a well-formed document (our writer only writes such): with integrity-only
 * checking (no trusted certificate) anyone could sign anything, and the full check always runs.
 * Exported for tests; use verifyResponse.
 */
export async function verifyOwnLayout(path: string, trusted: X509Certificate): Promise<VerifyResult | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
    const size = (await fh.stat()).size;
    const headLength = Math.min(size, HEAD_BYTES);
    const tailLength = Math.min(size, MAX_SIGNATURE_CHARS + HEAD_BYTES);
    const head = Buffer.alloc(headLength);
    const tail = Buffer.alloc(tailLength);
    await fh.read(head, 0, headLength, 0);
    await fh.read(tail, 0, tailLength, size - tailLength);
    const tailStart = size - tailLength;

    if (head.toString('latin1', 0, OWN_DECLARATION.length) !== OWN_DECLARATION) return undefined;
    const rootStart = OWN_DECLARATION.length;
    const root = OWN_ROOT.exec(head.toString('latin1', rootStart, rootStart + 64));
    if (!root) return undefined;
    const rootOpen = root[0];
    const rootClose = `</${root[1]}>`;
    const sigClose = `</ds:Signature>${rootClose}`;
    const end = tail.toString('latin1', Math.max(0, tail.length - sigClose.length - 1));
    const closing = end.endsWith(`${sigClose}\n`) ? rootClose.length + 1 : end.endsWith(sigClose) ? rootClose.length : -1;
    if (closing < 0) return undefined;
    const sigAt = tail.lastIndexOf(`<ds:Signature xmlns:ds="${DS_NS}">`);
    if (sigAt < 0 || tailStart + sigAt <= rootStart + rootOpen.length) return undefined;
    const headerAt = head.indexOf('<Header>', rootStart + rootOpen.length);
    const headerEnd = headerAt < 0 ? -1 : head.indexOf('</Header>', headerAt);
    const trailerAt = tail.lastIndexOf('<Trailer>', sigAt);
    const trailerEnd = trailerAt < 0 ? -1 : tail.indexOf('</Trailer>', trailerAt);
    if (headerEnd < 0 || trailerEnd < 0 || trailerEnd > sigAt || tailStart + trailerAt <= headerEnd) return undefined;

    // the Signature, Header and Trailer elements, read by the full checker
    const found = await scanSource(path, [
      Buffer.from(rootOpen, 'latin1'),
      head.subarray(headerAt, headerEnd + '</Header>'.length),
      tail.subarray(trailerAt, trailerEnd + '</Trailer>'.length),
      tail.subarray(sigAt, tail.length - closing),
      Buffer.from(rootClose, 'latin1'),
    ]);
    const sig = readSignature(found.signature);
    // the canonical content: the bytes before the Signature, then the root's end tag
    const hash = createHash('sha256');
    const sigStart = tailStart + sigAt;
    for await (const chunk of fh.createReadStream({ start: rootStart, end: sigStart - 1, highWaterMark: 1 << 20, autoClose: false })) hash.update(chunk as Buffer);
    hash.update(rootClose, 'latin1');
    const verdict = judge(found, hash.digest(), sig, trusted);
    return verdict.ok ? verdict : undefined;
  } catch {
    return undefined; // the full check decides, and says why
  } finally {
    await fh?.close();
  }
}
