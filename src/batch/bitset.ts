/** A set of non-negative integers as bits; grows (doubling) up to the largest member. */
export class GrowableBitset {
  private words: Uint32Array;

  constructor(initialBits = 1 << 16) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(initialBits / 32)));
  }

  /** Adds n; returns false when n was already present. */
  add(n: number): boolean {
    const w = n >>> 5;
    if (w >= this.words.length) {
      let size = this.words.length * 2;
      while (size <= w) size *= 2;
      const bigger = new Uint32Array(size);
      bigger.set(this.words);
      this.words = bigger;
    }
    const bit = 1 << (n & 31);
    if ((this.words[w] & bit) !== 0) return false;
    this.words[w] |= bit;
    return true;
  }

  has(n: number): boolean {
    const w = n >>> 5;
    return w < this.words.length && (this.words[w] & (1 << (n & 31))) !== 0;
  }
}
