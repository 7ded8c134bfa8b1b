// A small byte-level XML tokenizer: tags, depth, positions, and on request the text of
// an element and the attributes of a tag. It is not a parser: it does not check
// well-formedness (libxml2 and saxes do that), it only finds where things are, fast and
// without decoding the file. It never throws and never buffers more than one name,
// one captured text and one tag's attributes.
//
// Positions follow libxml2 so that both can be compared and mapped onto each other:
// line = 1 + number of LF bytes before; column = 1 + number of characters (code points)
// since the last LF. (libxml2 does not count a lone CR as a line break; neither do we.)

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f;
const BANG = 0x21;
const QMARK = 0x3f;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const EQ = 0x3d;
const DASH = 0x2d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LF = 0x0a;
const COLON = 0x3a;

const enum S {
  Text,
  Lt,
  StartName,
  Attrs,
  AttrDq,
  AttrSq,
  EndName,
  EndRest,
  Bang,
  BangDash,
  Comment,
  CdataOpen,
  Cdata,
  Pi,
  Decl,
}

const CDATA_OPEN = [0x43, 0x44, 0x41, 0x54, 0x41, 0x5b]; // "CDATA["
const MAX_NAME = 256;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d;
}

export interface ScannedAttr {
  name: string;
  value: string; // raw: entity references are not expanded (see decodeXmlText)
  line: number;
  column: number;
}

/**
 * Callbacks of the scanner. They read the current tag from the scanner's public fields.
 * `depth` is the number of elements open around the tag (0 for the root).
 */
export interface ScanHandler {
  /** The name of a start tag is complete (attributes not read yet): set `captureAttrs` here if they are wanted. */
  startName?(s: XmlByteScanner, depth: number): void;
  /** A start tag is complete (after its '>'); for `<x/>` endTag follows at once. */
  startTag?(s: XmlByteScanner, depth: number): void;
  /** An end tag (or the end of an empty-element tag) is complete; depth is that of the element. */
  endTag?(s: XmlByteScanner, depth: number): void;
}

export class XmlByteScanner {
  // ---- current position (of the next byte)
  /** Absolute offset of the next byte. */
  offset = 0;
  line = 1;
  /** Characters already read on the current line. */
  private col = 0;

  // ---- current tag
  /** Offset, line and column of the current tag's '<'. */
  tagOffset = 0;
  tagLine = 1;
  tagColumn = 1;
  /** Offset just after the '>' of the tag being reported. */
  endOffset = 0;
  selfClosing = false;
  private readonly nameBuf = new Uint8Array(MAX_NAME);
  private nameLen = 0;
  private nameFull = 0;
  depth = 0;

  // ---- captures, switched on by the handler
  /** Collect the character data (text and CDATA) until switched off; see `text()`. */
  captureText = false;
  private textBuf = new Uint8Array(256);
  private textLen = 0;
  /** Bytes of text seen beyond `textLimit`. */
  textOverflow = 0;
  textLimit = 4096;
  /** Collect the attributes of the current start tag: set it in `startName`. */
  captureAttrs = false;
  attrs: ScannedAttr[] = [];
  private attrBuf = new Uint8Array(256);
  private attrLen = 0;
  private inAttrName = false;
  private inAttrValue = false;
  private attrName: string | null = null;
  private attrLine = 0;
  private attrCol = 0;

  private state: S = S.Text;
  private counter = 0; // dashes in a comment, ']' in CDATA, matched bytes of "CDATA[", '[' nesting in a declaration
  private piQ = false;

  constructor(private readonly handler: ScanHandler) {}

  /** Column (1-based) of the next byte. */
  get column(): number {
    return this.col + 1;
  }

  /** The current tag's qualified name. */
  get name(): string {
    return Buffer.from(this.nameBuf.buffer, 0, this.nameLen).toString('utf8');
  }

  /** Whether the current tag's local name (after any prefix) equals `local` (ASCII). */
  localNameIs(local: string): boolean {
    if (this.nameFull > MAX_NAME) return false;
    let start = 0;
    for (let i = 0; i < this.nameLen; i++) if (this.nameBuf[i] === COLON) start = i + 1;
    if (this.nameLen - start !== local.length) return false;
    for (let i = 0; i < local.length; i++) if (this.nameBuf[start + i] !== local.charCodeAt(i)) return false;
    return true;
  }

  /** The text captured since `captureText` was switched on (raw, see decodeXmlText). */
  text(): string {
    return Buffer.from(this.textBuf.buffer, 0, this.textLen).toString('utf8');
  }

  resetText(): void {
    this.textLen = 0;
    this.textOverflow = 0;
  }

  feed(chunk: Uint8Array): void {
    const h = this.handler;
    const base = this.offset;
    const n = chunk.length;
    let state = this.state;
    let line = this.line;
    let col = this.col;
    // libxml2 does not count a byte order mark as a column (its first byte is all that is
    // counted here; a document cannot otherwise start with 0xEF).
    if (base === 0 && n > 0 && chunk[0] === 0xef) col = -1;
    for (let i = 0; i < n; i++) {
      const b = chunk[i];
      if (b === LF) {
        line++;
        col = 0;
      } else if ((b & 0xc0) !== 0x80) {
        col++;
      }
      switch (state) {
        case S.Text:
          if (b === LT) {
            this.tagOffset = base + i;
            this.tagLine = line;
            this.tagColumn = col;
            state = S.Lt;
          } else if (this.captureText) {
            this.pushText(b);
          }
          break;
        case S.Lt:
          if (b === SLASH) {
            this.nameLen = 0;
            this.nameFull = 0;
            state = S.EndName;
          } else if (b === BANG) {
            state = S.Bang;
          } else if (b === QMARK) {
            this.piQ = false;
            state = S.Pi;
          } else {
            this.nameLen = 0;
            this.nameFull = 0;
            this.pushName(b);
            state = S.StartName;
          }
          break;
        case S.StartName:
          if (!isSpace(b) && b !== SLASH && b !== GT) {
            this.pushName(b);
          } else {
            this.selfClosing = false;
            this.inAttrName = false;
            this.attrName = null;
            this.captureAttrs = false;
            this.line = line;
            this.col = col;
            h.startName?.(this, this.depth);
            if (this.captureAttrs) this.attrs = [];
            state = this.attrsByte(b, base + i, line, col); // the byte that ended the name
          }
          break;
        case S.Attrs:
          state = this.attrsByte(b, base + i, line, col);
          break;
        case S.AttrDq:
        case S.AttrSq:
          if (b === (state === S.AttrDq ? DQUOTE : SQUOTE)) {
            if (this.inAttrValue) this.finishAttr();
            state = S.Attrs;
          } else if (this.inAttrValue) {
            this.pushAttr(b);
          }
          break;
        case S.EndName:
          if (b === GT) {
            this.endTagDone(base + i + 1, line, col);
            state = S.Text;
          } else if (isSpace(b)) {
            state = S.EndRest;
          } else {
            this.pushName(b);
          }
          break;
        case S.EndRest:
          if (b === GT) {
            this.endTagDone(base + i + 1, line, col);
            state = S.Text;
          }
          break;
        case S.Bang:
          this.counter = 0;
          if (b === DASH) state = S.BangDash;
          else if (b === LBRACKET) state = S.CdataOpen;
          else state = b === GT ? S.Text : S.Decl;
          break;
        case S.BangDash:
          this.counter = 0;
          state = b === DASH ? S.Comment : b === GT ? S.Text : S.Decl;
          break;
        case S.Comment:
          if (b === DASH) this.counter++;
          else if (b === GT && this.counter >= 2) state = S.Text;
          else this.counter = 0;
          break;
        case S.CdataOpen:
          if (b === CDATA_OPEN[this.counter]) {
            this.counter++;
            if (this.counter === CDATA_OPEN.length) {
              this.counter = 0;
              state = S.Cdata;
            }
          } else {
            this.counter = 0;
            state = b === GT ? S.Text : S.Decl;
          }
          break;
        case S.Cdata:
          if (b === GT && this.counter >= 2) {
            if (this.captureText) this.textLen = Math.max(0, this.textLen - 2); // drop the "]]"
            state = S.Text;
          } else {
            this.counter = b === RBRACKET ? this.counter + 1 : 0;
            if (this.captureText) this.pushText(b);
          }
          break;
        case S.Pi:
          if (b === GT && this.piQ) state = S.Text;
          else this.piQ = b === QMARK;
          break;
        case S.Decl:
          if (b === LBRACKET) this.counter++;
          else if (b === RBRACKET) this.counter--;
          else if (b === GT && this.counter <= 0) state = S.Text;
          break;
      }
    }
    this.state = state;
    this.line = line;
    this.col = col;
    this.offset = base + n;
  }

  /** One byte inside a start tag, after its name. Returns the next state. */
  private attrsByte(b: number, at: number, line: number, col: number): S {
    if (b === GT) {
      this.line = line;
      this.col = col;
      this.endOffset = at + 1;
      this.offset = at + 1;
      const depth = this.depth;
      this.handler.startTag?.(this, depth);
      if (this.selfClosing) this.handler.endTag?.(this, depth);
      else this.depth = depth + 1;
      return S.Text;
    }
    if (b === DQUOTE || b === SQUOTE) {
      if (this.inAttrName) this.endAttrName();
      this.inAttrValue = this.captureAttrs && this.attrName !== null;
      this.attrLen = 0;
      return b === DQUOTE ? S.AttrDq : S.AttrSq;
    }
    if (b === SLASH) {
      this.selfClosing = true;
      if (this.inAttrName) this.endAttrName();
    } else if (isSpace(b) || b === EQ) {
      if (this.inAttrName) this.endAttrName();
    } else {
      this.selfClosing = false;
      if (this.captureAttrs) {
        if (!this.inAttrName) {
          this.inAttrName = true;
          this.attrLen = 0;
          this.attrLine = line;
          this.attrCol = col;
        }
        this.pushAttr(b);
      }
    }
    return S.Attrs;
  }

  private endAttrName(): void {
    this.inAttrName = false;
    this.attrName = Buffer.from(this.attrBuf.buffer, 0, this.attrLen).toString('utf8');
  }

  private finishAttr(): void {
    this.attrs.push({
      name: this.attrName ?? '',
      value: Buffer.from(this.attrBuf.buffer, 0, this.attrLen).toString('utf8'),
      line: this.attrLine,
      column: this.attrCol,
    });
    this.inAttrValue = false;
    this.attrName = null;
  }

  private endTagDone(end: number, line: number, col: number): void {
    this.line = line;
    this.col = col;
    this.endOffset = end;
    this.offset = end;
    this.selfClosing = false;
    if (this.depth > 0) this.depth--;
    this.handler.endTag?.(this, this.depth);
  }

  private pushName(b: number): void {
    if (this.nameLen < MAX_NAME) this.nameBuf[this.nameLen++] = b;
    this.nameFull++;
  }

  private pushText(b: number): void {
    if (this.textLen >= this.textLimit) {
      this.textOverflow++;
      return;
    }
    if (this.textLen === this.textBuf.length) {
      const bigger = new Uint8Array(this.textBuf.length * 2);
      bigger.set(this.textBuf);
      this.textBuf = bigger;
    }
    this.textBuf[this.textLen++] = b;
  }

  private pushAttr(b: number): void {
    if (this.attrLen >= 4096) return; // capture is best effort: a longer name or value is cut
    if (this.attrLen === this.attrBuf.length) {
      const bigger = new Uint8Array(this.attrBuf.length * 2);
      bigger.set(this.attrBuf);
      this.attrBuf = bigger;
    }
    this.attrBuf[this.attrLen++] = b;
  }
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Expands the predefined entities and character references of raw text or attribute values
 * (no DTD is allowed, so there are no others). An unknown reference is kept as written.
 * Line ends are normalized as XML does (CRLF and CR → LF).
 */
export function decodeXmlText(raw: string): string {
  let s = raw.indexOf('\r') >= 0 ? raw.replace(/\r\n?/g, '\n') : raw;
  if (s.indexOf('&') < 0) return s;
  s = s.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return safeCodePoint(parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return safeCodePoint(parseInt(ref.slice(1), 10), whole);
    return PREDEFINED[ref] ?? whole;
  });
  return s;
}

function safeCodePoint(cp: number, fallback: string): string {
  return Number.isInteger(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : fallback;
}
