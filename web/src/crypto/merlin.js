// STROBE-128 and Merlin transcripts, vendored for the Dobush voter client.
//
// A line-by-line port of the Rust crate `merlin` 3.0.0 (src/strobe.rs and src/transcript.rs),
// Copyright (c) 2018 Henry de Valence (MIT licence), itself a minimal STROBE-128 after Mike
// Hamburg's STROBE protocol framework. (`@scure/sr25519` by Paul Miller, MIT licence, carries a
// similar TypeScript port.) Only the operations Merlin uses are supported: meta-AD, AD, KEY and
// PRF. Keccak-f[1600] is `keccakP` from @noble/hashes (MIT licence, Paul Miller).
//
// MIT licence (of the original works): Permission is hereby granted, free of charge, to any
// person obtaining a copy of this software and associated documentation files (the "Software"),
// to deal in the Software without restriction, including without limitation the rights to use,
// copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and
// to permit persons to whom the Software is furnished to do so, subject to the following
// conditions: The above copyright notice and this permission notice shall be included in all
// copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT
// WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
//
// Labels and messages may be Uint8Array or strings (strings are UTF-8 encoded).

import { keccakP } from '@noble/hashes/sha3.js';
import { swap32IfBE } from '@noble/hashes/utils.js';

const STROBE_R = 166;
const FLAG_I = 1;
const FLAG_A = 1 << 1;
const FLAG_C = 1 << 2;
const FLAG_T = 1 << 3;
const FLAG_M = 1 << 4;
const FLAG_K = 1 << 5;

const utf8 = new TextEncoder();
const bytesOf = (x) => {
  if (typeof x === 'string') return utf8.encode(x);
  if (x instanceof Uint8Array) return x;
  throw new TypeError('expected a string or a Uint8Array');
};

/** 4-byte little-endian length, as merlin's `encode_usize_as_u32`. */
function le32(n) {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError('length does not fit in u32');
  return new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
}

/** 8-byte little-endian encoding of a u64 (number or bigint). */
export function le64(x) {
  let v = BigInt(x);
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError('value does not fit in u64');
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

class Strobe128 {
  constructor(protocolLabel, _clone) {
    this.state = new Uint8Array(200);
    this.state32 = new Uint32Array(this.state.buffer, this.state.byteOffset, 50);
    if (_clone) {
      this.state.set(_clone.state);
      this.pos = _clone.pos;
      this.posBegin = _clone.posBegin;
      this.curFlags = _clone.curFlags;
      return;
    }
    this.state.set([1, STROBE_R + 2, 1, 0, 1, 96], 0);
    this.state.set(utf8.encode('STROBEv1.0.2'), 6);
    this.keccakF1600();
    this.pos = 0;
    this.posBegin = 0;
    this.curFlags = 0;
    this.metaAd(bytesOf(protocolLabel), false);
  }

  clone() {
    return new Strobe128(null, this);
  }

  keccakF1600() {
    swap32IfBE(this.state32);
    keccakP(this.state32, 24);
    swap32IfBE(this.state32);
  }

  metaAd(data, more) {
    this.beginOp(FLAG_M | FLAG_A, more);
    this.absorb(data);
  }

  ad(data, more) {
    this.beginOp(FLAG_A, more);
    this.absorb(data);
  }

  prf(dest, more) {
    this.beginOp(FLAG_I | FLAG_A | FLAG_C, more);
    this.squeeze(dest);
  }

  key(data, more) {
    this.beginOp(FLAG_A | FLAG_C, more);
    this.overwrite(data);
  }

  runF() {
    this.state[this.pos] ^= this.posBegin;
    this.state[this.pos + 1] ^= 0x04;
    this.state[STROBE_R + 1] ^= 0x80;
    this.keccakF1600();
    this.pos = 0;
    this.posBegin = 0;
  }

  absorb(data) {
    for (let i = 0; i < data.length; i++) {
      this.state[this.pos] ^= data[i];
      this.pos += 1;
      if (this.pos === STROBE_R) this.runF();
    }
  }

  overwrite(data) {
    for (let i = 0; i < data.length; i++) {
      this.state[this.pos] = data[i];
      this.pos += 1;
      if (this.pos === STROBE_R) this.runF();
    }
  }

  squeeze(dest) {
    for (let i = 0; i < dest.length; i++) {
      dest[i] = this.state[this.pos];
      this.state[this.pos] = 0;
      this.pos += 1;
      if (this.pos === STROBE_R) this.runF();
    }
  }

  beginOp(flags, more) {
    if (more) {
      if (this.curFlags !== flags) throw new Error('strobe: continued an operation with other flags');
      return;
    }
    if (flags & FLAG_T) throw new Error('strobe: the T flag is not supported');
    const oldBegin = this.posBegin;
    this.posBegin = this.pos + 1;
    this.curFlags = flags;
    this.absorb(new Uint8Array([oldBegin, flags]));
    const forceF = (flags & (FLAG_C | FLAG_K)) !== 0;
    if (forceF && this.pos !== 0) this.runF();
  }
}

const MERLIN_PROTOCOL_LABEL = 'Merlin v1.0';

/** A Merlin transcript (merlin 3.0 `Transcript`). */
export class Transcript {
  constructor(label, _strobe) {
    if (_strobe) {
      this.strobe = _strobe;
      return;
    }
    this.strobe = new Strobe128(MERLIN_PROTOCOL_LABEL);
    this.appendMessage('dom-sep', label);
  }

  /** An independent copy (Rust `Transcript::clone`). */
  clone() {
    return new Transcript(null, this.strobe.clone());
  }

  appendMessage(label, message) {
    const msg = bytesOf(message);
    this.strobe.metaAd(bytesOf(label), false);
    this.strobe.metaAd(le32(msg.length), true);
    this.strobe.ad(msg, false);
  }

  /** `append_u64`: the value as 8 bytes little-endian. */
  appendU64(label, x) {
    this.appendMessage(label, le64(x));
  }

  /** Fills and returns `len` challenge bytes. */
  challengeBytes(label, len) {
    const dest = new Uint8Array(len);
    this.strobe.metaAd(bytesOf(label), false);
    this.strobe.metaAd(le32(len), true);
    this.strobe.prf(dest, false);
    return dest;
  }

  /** `build_rng()`: a builder over a copy of the transcript's state. */
  buildRng() {
    return new TranscriptRngBuilder(this.strobe.clone());
  }
}

/** merlin's `TranscriptRngBuilder`. */
export class TranscriptRngBuilder {
  constructor(strobe) {
    this.strobe = strobe;
  }

  rekeyWithWitnessBytes(label, witness) {
    const w = bytesOf(witness);
    this.strobe.metaAd(bytesOf(label), false);
    this.strobe.metaAd(le32(w.length), true);
    this.strobe.key(w, false);
    return this;
  }

  /** Draws 32 bytes from `rng` (an object with `fillBytes(Uint8Array)`) and keys the RNG. */
  finalize(rng) {
    const random = new Uint8Array(32);
    rng.fillBytes(random);
    this.strobe.metaAd(utf8.encode('rng'), false);
    this.strobe.key(random, false);
    random.fill(0);
    return new TranscriptRng(this.strobe);
  }
}

/** merlin's `TranscriptRng`: an RNG object with `fillBytes`. */
export class TranscriptRng {
  constructor(strobe) {
    this.strobe = strobe;
  }

  fillBytes(dest) {
    this.strobe.metaAd(le32(dest.length), false);
    this.strobe.prf(dest, false);
  }
}
