// Random number generators. An RNG is any object with `fillBytes(Uint8Array)`.
//
// - `systemRng`: the browser's / Node's CSPRNG (crypto.getRandomValues). Use it in production.
// - `ChaCha20Rng`: deterministic, for tests only. It reproduces Rust's
//   `rand_chacha::ChaCha20Rng::from_seed(seed)` (rand_chacha 0.3 / rand_core 0.6) exactly, so
//   that the known-answer vectors in `vectors/` can be regenerated in JS byte for byte.

/** The platform CSPRNG. */
export const systemRng = Object.freeze({
  fillBytes(dest) {
    if (!(dest instanceof Uint8Array)) throw new TypeError('fillBytes expects a Uint8Array');
    // getRandomValues fills at most 65536 bytes per call.
    for (let off = 0; off < dest.length; off += 65536) {
      globalThis.crypto.getRandomValues(dest.subarray(off, Math.min(dest.length, off + 65536)));
    }
  },
});

const rotl = (x, n) => (x << n) | (x >>> (32 - n));

function quarter(s, a, b, c, d) {
  s[a] = (s[a] + s[b]) | 0; s[d] = rotl(s[d] ^ s[a], 16);
  s[c] = (s[c] + s[d]) | 0; s[b] = rotl(s[b] ^ s[c], 12);
  s[a] = (s[a] + s[b]) | 0; s[d] = rotl(s[d] ^ s[a], 8);
  s[c] = (s[c] + s[d]) | 0; s[b] = rotl(s[b] ^ s[c], 7);
}

/**
 * The ChaCha block function (20 rounds): 16 output words for `input` (16 words: constants,
 * key, 64-bit block counter in words 12–13, 64-bit stream id in words 14–15).
 */
export function chachaBlock(input, out) {
  const x = Uint32Array.from(input);
  for (let i = 0; i < 10; i++) {
    quarter(x, 0, 4, 8, 12); quarter(x, 1, 5, 9, 13); quarter(x, 2, 6, 10, 14); quarter(x, 3, 7, 11, 15);
    quarter(x, 0, 5, 10, 15); quarter(x, 1, 6, 11, 12); quarter(x, 2, 7, 8, 13); quarter(x, 3, 4, 9, 14);
  }
  for (let i = 0; i < 16; i++) out[i] = (x[i] + input[i]) | 0;
  return out;
}

/**
 * Deterministic ChaCha20 RNG identical to `rand_chacha::ChaCha20Rng::from_seed(seed)`: key = the
 * 32-byte seed, stream 0, block counter from 0, 20 rounds. Output is consumed as u32 words
 * (little-endian); like rand_core's `BlockRng::fill_bytes`, a request of n bytes consumes
 * ⌈n/4⌉ words and discards the unused bytes of a partly used last word.
 * FOR TESTS ONLY: never use a seeded RNG for real ballots or credentials.
 */
export class ChaCha20Rng {
  constructor(seed) {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('seed must be 32 bytes');
    const dv = new DataView(seed.buffer, seed.byteOffset, 32);
    this.input = new Uint32Array(16);
    this.input.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
    for (let i = 0; i < 8; i++) this.input[4 + i] = dv.getUint32(4 * i, true);
    this.counter = 0n;
    this.words = new Uint32Array(16);
    this.index = 16;
  }

  /** A copy at the same position (Rust `ChaCha20Rng::clone`). */
  clone() {
    const c = Object.create(ChaCha20Rng.prototype);
    c.input = Uint32Array.from(this.input);
    c.counter = this.counter;
    c.words = Uint32Array.from(this.words);
    c.index = this.index;
    return c;
  }

  refill() {
    this.input[12] = Number(this.counter & 0xffffffffn);
    this.input[13] = Number(this.counter >> 32n);
    chachaBlock(this.input, this.words);
    this.counter += 1n;
    this.index = 0;
  }

  nextU32() {
    if (this.index >= 16) this.refill();
    return this.words[this.index++];
  }

  fillBytes(dest) {
    for (let off = 0; off < dest.length; off += 4) {
      const w = this.nextU32();
      for (let k = 0; k < 4 && off + k < dest.length; k++) dest[off + k] = (w >>> (8 * k)) & 0xff;
    }
  }
}

/** `ChaCha20Rng::from_seed([byte; 32])`, the form used by `tests/src/vectors.rs`. */
export function seededRng(byte) {
  return new ChaCha20Rng(new Uint8Array(32).fill(byte));
}
