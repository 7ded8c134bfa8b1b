// Contract §8: import files are UTF-8 (a BOM is allowed); a file with bytes that are not UTF-8
// is refused whole, naming the first such line. Without this, the CSV parser decodes them as
// U+FFFD and a Latin-1 name would be stored garbled.
import { Transform, type TransformCallback } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { LdmError } from '../errors.js';

const NL = 0x0a;

/** Passes bytes through unchanged; fails with IMPORT_ENCODING at the first line that is not UTF-8. */
export class Utf8Guard extends Transform {
  private carry: Buffer = Buffer.alloc(0);
  /** Line number of the first byte of `carry`. */
  private line = 1;

  constructor(private readonly file: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    // A newline byte is never inside a multi-byte sequence: whole lines can be checked alone.
    const end = buf.lastIndexOf(NL) + 1;
    try {
      this.check(buf.subarray(0, end));
    } catch (err) {
      done(err as Error);
      return;
    }
    this.carry = Buffer.from(buf.subarray(end));
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.check(this.carry);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private check(lines: Buffer): void {
    if (lines.length === 0) return;
    if (isUtf8(lines)) {
      for (let i = lines.indexOf(NL); i !== -1; i = lines.indexOf(NL, i + 1)) this.line++;
      return;
    }
    let start = 0;
    for (;;) {
      const nl = lines.indexOf(NL, start);
      const stop = nl === -1 ? lines.length : nl + 1;
      if (!isUtf8(lines.subarray(start, stop))) {
        throw new LdmError('IMPORT_ENCODING', `${this.file}: line ${this.line} has bytes that are not UTF-8; nothing was imported (save the file as UTF-8 and import it again)`);
      }
      this.line++;
      start = stop;
    }
  }
}
