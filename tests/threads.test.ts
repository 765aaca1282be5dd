// Threads: every op returns the same bits for any thread count (1, 2, 3), at awkward
// sizes where a team splits work unevenly (fewer rows than threads, one head, T smaller
// than a block). Teams are forced onto tiny calls (minWorkPerThread = 0), which the
// pool would otherwise run on one thread.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Tensor, type Weft } from '../src/index.js';
import { backendOf } from '../src/internal.js';
import type { WasmInstance } from '../src/backend/wasm/call.js';
import { RELAXED_PROJECT } from './helpers.js';

const variant = RELAXED_PROJECT ? 'relaxed' : 'simd';
const THREADS = [1, 2, 3] as const;

/** The WASM instance behind a weft object (its pool, its thread policy). */
export function wasmInstanceOf(weft: Weft): WasmInstance {
  return (backendOf(weft) as unknown as { instance: WasmInstance }).instance;
}

/** A weft instance on `threads` threads that puts every call on all of them. */
async function teamWeft(threads: number): Promise<Weft> {
  const weft = await createWeft({ simd: variant, threads });
  expect(weft.features.threads).toBe(threads);
  wasmInstanceOf(weft).minWorkPerThread = 0;
  return weft;
}

function bitsOf(value: unknown): string {
  if (value instanceof Float32Array || value instanceof Int32Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (Array.isArray(value)) return value.map(bitsOf).join('|');
  if (value && typeof value === 'object') {
    const data = (value as Tensor).data;
    if (data instanceof Float32Array) return bitsOf(data);
    return Object.keys(value).sort().map((key) => `${key}:${bitsOf((value as Record<string, unknown>)[key])}`).join(',');
  }
  return String(value);
}

let seed = 7;
function data(n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    out[i] = ((seed / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}
const t = (shape: number[], scale = 1): Tensor => ({ data: data(shape.reduce((a, b) => a * b, 1), scale), shape });

type Case = [name: string, run: (w: Weft) => unknown];

/** Calls of every op at sizes where teams split work unevenly; inputs are made once and shared. */
function cases(): Case[] {
  const list: Case[] = [];
  for (const [M, K, N, batch] of [[1, 3, 5, 0], [3, 17, 70, 0], [5, 33, 300, 0], [130, 31, 66, 0], [2, 9, 300, 3], [65, 257, 40, 2], [300, 40, 520, 0]]) {
    const a = batch ? t([batch, M, K]) : t([M, K]), b = t([K, N]), bias = t([N]);
    const bBatched = batch ? t([batch, K, N]) : b;
    list.push([`matmul ${M}x${K}x${N} batch ${batch}`, (w) => w.matmul(a, b, { bias })]);
    if (batch) list.push([`matmul ${M}x${K}x${N} batched B ${batch}`, (w) => w.matmul(a, bBatched)]);
  }
  return list;
}

describe('the same bits for 1, 2 and 3 threads', () => {
  const wefts: Weft[] = [];
  const all = cases();
  beforeAll(async () => {
    for (const threads of THREADS) wefts.push(await teamWeft(threads));
  });
  afterAll(() => wefts.forEach((w) => w.dispose()));

  it.each(all.map(([name, run]) => [name, run] as const))('%s', (_name, run) => {
    const [one, ...more] = wefts.map((w) => bitsOf(run(w)));
    for (const [i, bits] of more.entries()) expect(bits, `${THREADS[i + 1]} threads`).toBe(one);
  });
});

describe('the pool', () => {
  it('reports its threads, runs calls on them, and refuses calls after dispose', async () => {
    const weft = await createWeft({ simd: variant, threads: 2 });
    expect(weft.features.threads).toBe(2);
    expect(wasmInstanceOf(weft).threadPool?.liveThreads).toBe(2);
    const a = t([64, 64]);
    expect(weft.matmul(a, a).shape).toEqual([64, 64]);
    weft.dispose();
    weft.dispose(); // idempotent
    expect(() => weft.matmul(a, a)).toThrow(/disposed/);
  });

  it('threads: 1 has no pool and an ordinary memory', async () => {
    const weft = await createWeft({ simd: variant, threads: 1 });
    expect(wasmInstanceOf(weft).threadPool).toBeUndefined();
    expect(wasmInstanceOf(weft).memory.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('rejects bad threads options with typed errors', async () => {
    await expect(createWeft({ threads: 0 })).rejects.toMatchObject({ code: 'RANGE' });
    await expect(createWeft({ threads: 1.5 })).rejects.toMatchObject({ code: 'OPTION' });
    await expect(createWeft({ threads: 'all' as never })).rejects.toMatchObject({ code: 'OPTION' });
    await expect(createWeft({ threads: 1000 })).rejects.toMatchObject({ code: 'RANGE' });
  });

  it('auto uses the cores the runtime reports', async () => {
    const weft = await createWeft({ simd: variant });
    const { availableParallelism } = await import('node:os');
    expect(weft.features.threads).toBe(Math.min(64, availableParallelism()));
    weft.dispose();
  });
});
