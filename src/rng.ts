// The one seeded generator of weft: xoshiro128** (Blackman & Vigna), 32-bit
// operations only, so JS (Math.imul) and AssemblyScript (assembly/rng.ts) produce
// the same stream from the same state. A test compares the two.

import { WeftError, describe } from './errors.js';
import { Tensor, checkShape, numel, allocF32 } from './tensor.js';

// murmur3's 32-bit finaliser: a bijection that spreads every input bit.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Throw OPTION unless seed is a safe integer; return it. */
export function checkSeed(name: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new WeftError('OPTION', `${name}: seed: expected a safe integer, got ${describe(seed)}`);
  }
  return seed;
}

/**
 * The 4-word xoshiro state for a seed (any safe integer, negative ones included).
 * Four distinct fmix32 outputs, so the state is never all zero.
 */
export function seedState(seed: number): Uint32Array {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  let x = (lo ^ fmix32(hi ^ 0x9e3779b9)) >>> 0;
  const state = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    state[i] = fmix32(x);
  }
  return state;
}

/**
 * The state of stream `stream` (>= 1) derived from `state`: the four words and the
 * stream index hashed together, then spread like seedState (never all zero). Hogwild
 * threads draw from such streams, so thread 0 continues the model's own stream.
 */
export function streamState(state: Uint32Array, stream: number): Uint32Array {
  let x = fmix32(stream ^ 0x85ebca6b);
  for (let i = 0; i < 4; i++) x = fmix32((x ^ state[i]) >>> 0);
  const out = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    out[i] = fmix32(x);
  }
  return out;
}

/** xoshiro128** over a 4-word state (the state array is advanced in place). */
export class Rng {
  readonly state: Uint32Array;

  constructor(seedOrState: number | Uint32Array) {
    this.state = typeof seedOrState === 'number' ? seedState(seedOrState) : seedOrState;
  }

  /** Next u32 of the stream. */
  nextU32(): number {
    const s = this.state;
    const s1 = s[1];
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s[2] ^= s[0];
    s[3] ^= s1;
    s[1] = s1 ^ s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits (exactly representable in f32, as in assembly/rng.ts). */
  nextFloat(): number {
    return (this.nextU32() >>> 8) * (1 / 16777216);
  }

  /** Uniform integer in [0, n), n <= 2^32 (Lemire's multiply-shift, slight bias < n / 2^32). */
  nextBelow(n: number): number {
    return Math.floor((this.nextU32() * n) / 4294967296);
  }

  /**
   * Standard normal via Box-Muller with 24-bit uniforms. Uses Math.log/cos/sin,
   * which V8 computes identically in Node and Chromium.
   */
  nextNormalPair(): [number, number] {
    const u1 = ((this.nextU32() >>> 8) + 1) * (1 / 16777216); // (0, 1]: log is finite
    const u2 = (this.nextU32() >>> 8) * (1 / 16777216);
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    return [r * Math.cos(theta), r * Math.sin(theta)];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fill `out` with standard normal samples drawn from `rng`. */
export function fillNormal(rng: Rng, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const [z0, z1] = rng.nextNormalPair();
    out[i] = z0;
    if (i + 1 < out.length) out[i + 1] = z1;
  }
  return out;
}

/** A tensor of standard normal samples; the same seed gives the same tensor on every backend. */
export function randn(shape: readonly number[], seed: number): Tensor {
  const dims = [...checkShape('randn', shape)];
  const data = allocF32('randn', numel(dims));
  fillNormal(new Rng(checkSeed('randn', seed)), data);
  return { data, shape: dims };
}
