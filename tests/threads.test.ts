// Threads: every op returns the same bits for any thread count (1, 2, 3, 8), at awkward
// sizes where a team splits work unevenly (fewer rows than threads, one head, T smaller
// than a block). Teams are forced onto tiny calls (minWorkPerThread = 0), which the
// pool would otherwise run on one thread.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Tensor, type Weft } from '../src/index.js';
import { backendOf } from '../src/internal.js';
import type { WasmInstance } from '../src/backend/wasm/call.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RELAXED_PROJECT, expectWeftError } from './helpers.js';
import { writeWord2Vec } from '../src/ops/skipgram/word2vec.js';

/** Resolves once `condition` holds; fails after `ms`. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`condition not met in ${ms} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const variant = RELAXED_PROJECT ? 'relaxed' : 'simd';
const THREADS = [1, 2, 3, 8] as const;

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
  // the last two: a B beyond 4M floats, streamed chunk by chunk
  for (const [M, K, N, batch] of [[1, 3, 5, 0], [3, 17, 70, 0], [5, 33, 300, 0], [130, 31, 66, 0], [2, 9, 300, 3], [65, 257, 40, 2], [300, 40, 520, 0], [1, 64, 70001, 0], [3, 64, 66000, 2]]) {
    const a = batch ? t([batch, M, K]) : t([M, K]), b = t([K, N]), bias = t([N]);
    const bBatched = batch ? t([batch, K, N]) : b;
    list.push([`matmul ${M}x${K}x${N} batch ${batch}`, (w) => w.matmul(a, b, { bias })]);
    if (batch) list.push([`matmul ${M}x${K}x${N} batched B ${batch}`, (w) => w.matmul(a, bBatched)]);
  }
  for (const [B, H, W, C, O, k, padding] of [[1, 1, 1, 1, 1, 1, 'valid'], [2, 5, 7, 3, 5, 3, 'same'], [3, 17, 9, 4, 17, 2, 'valid'], [2, 20, 20, 8, 16, 3, 'same']] as const) {
    const args = { x: t([B, H, W, C]), w: t([O, k, k, C], 0.3), bias: t([O]), padding, activation: 'relu' as const };
    list.push([`conv2d ${B}x${H}x${W}x${C} O${O} k${k} ${padding}`, (w) => w.conv2d.forward(args)]);
  }
  // backward: dw's columns split by panels and its pixels by 256-pixel chunks (the last
  // sizes have 2 and 4 of them), dbias by columns, dx by 128-pixel chunks
  for (const [B, H, W, C, O, kh, kw, padding, activation] of [
    [1, 1, 1, 1, 1, 1, 1, 'valid', 'identity'], [2, 5, 7, 3, 5, 3, 3, 'same', 'tanh'], [3, 17, 9, 4, 17, 2, 3, 'valid', 'sigmoid'],
    [2, 20, 20, 8, 16, 3, 3, 'same', 'relu'], [1, 23, 19, 19, 3, 5, 2, 'same', 'identity'],
  ] as const) {
    const args = { x: t([B, H, W, C]), w: t([O, kh, kw, C], 0.3), bias: t([O]), padding, activation };
    const [OH, OW] = padding === 'same' ? [H, W] : [H - kh + 1, W - kw + 1];
    const dy = t([B, OH, OW, O]);
    list.push([
      `conv2d.backward ${B}x${H}x${W}x${C} O${O} k${kh}x${kw} ${padding} ${activation}`,
      (w) => w.conv2d.backward({ ...args, y: w.conv2d.forward(args).y, dy }),
    ]);
  }
  for (const [B, H, W, C, hid] of [[1, 1, 1, 1, 1], [1, 1, 7, 3, 5], [2, 5, 3, 3, 17], [1, 17, 3, 2, 8], [3, 9, 11, 5, 33]]) {
    const args = { x: t([B, H, W, C]), wIn: t([hid, C], 0.5), wLeft: t([hid, hid], 0.3), wTop: t([hid, hid], 0.3), bias: t([hid], 0.1) };
    for (const origin of ['top-left', 'bottom-right'] as const) {
      const o = { ...args, origin };
      const dh = t([B, H, W, hid]);
      list.push([`rnn2d forward ${B}x${H}x${W}x${C} hid ${hid} ${origin}`, (w) => w.rnn2d.forward(o)]);
      list.push([`rnn2d backward ${B}x${H}x${W}x${C} hid ${hid} ${origin}`, (w) => w.rnn2d.backward({ ...o, h: w.rnn2d.forward(o).h, dh })]);
    }
    const lstm = {
      x: args.x, wIn: t([5 * hid, C], 0.5), wLeft: t([5 * hid, hid], 0.3), wTop: t([5 * hid, hid], 0.3), bias: t([5 * hid], 0.1),
      cell: 'lstm' as const, origin: 'top-right' as const,
    };
    const dstate = t([B, H, W, hid]);
    list.push([`rnn2d lstm forward ${B}x${H}x${W}x${C} hid ${hid}`, (w) => w.rnn2d.forward(lstm)]);
    list.push([`rnn2d lstm backward ${B}x${H}x${W}x${C} hid ${hid}`, (w) => w.rnn2d.backward({ ...lstm, ...w.rnn2d.forward(lstm), dh: dstate, dc: dstate })]);
    const saving = { ...lstm, returnGates: true };
    list.push([`rnn2d lstm forward+gates, backward from them ${B}x${H}x${W}x${C} hid ${hid}`, (w) => {
      const out = w.rnn2d.forward(saving);
      return [out, w.rnn2d.backward({ ...saving, ...out, dh: dstate })];
    }]);
  }
  for (const [B, Hq, Hkv, T, S, d, dv] of [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 17, 17, 3, 5], [1, 3, 1, 40, 33, 8, 4], [2, 4, 2, 33, 40, 16, 8], [1, 1, 1, 130, 130, 64, 64], [1, 2, 2, 300, 300, 16, 16]]) {
    const q = t([B, Hq, T, d]), k = t([B, Hkv, S, d]), v = t([B, Hkv, S, dv]), dout = t([B, Hq, T, dv]);
    const keyMask = new Uint8Array(B * S).map((_, i) => (i % 5 === 3 ? 0 : 1));
    const shape = `${B},${Hq},${Hkv},${T},${S},${d},${dv}`;
    for (const causal of [false, true]) {
      const base = { q, k, v, causal };
      const win = { ...base, window: [5, 3] as [number, number], dilation: 2, globalTokens: Int32Array.of(0, Math.min(S - 1, 7)) };
      list.push([`attention.full ${shape} causal ${causal}`, (w) => w.attention.full({ ...base, keyMask })]);
      list.push([`attention.fullBackward ${shape} causal ${causal}`, (w) => w.attention.fullBackward({ ...base, dout })]);
      list.push([`attention.windowed ${shape} causal ${causal}`, (w) => w.attention.windowed(win)]);
      list.push([`attention.windowedBackward ${shape} causal ${causal}`, (w) => w.attention.windowedBackward({ ...win, dout })]);
      for (const featureMap of ['elu1', 'favor'] as const) {
        const lin = { ...base, featureMap, keyMask, numFeatures: featureMap === 'favor' ? 2 * d + 1 : undefined, seed: 3 };
        list.push([`attention.linear ${featureMap} ${shape} causal ${causal}`, (w) => w.attention.linear(lin)]);
        list.push([`attention.linearBackward ${featureMap} ${shape} causal ${causal}`, (w) => w.attention.linearBackward({ ...lin, dout })]);
      }
    }
  }
  const steps = Array.from({ length: 5 }, () => [t([2, 3, 5]), t([2, 3, 5]), t([2, 3, 7])]);
  list.push(['attention.linearStream', (w) => {
    const stream = w.attention.linearStream({ heads: 3, dim: 5, valueDim: 7, featureMap: 'favor', seed: 2 });
    return steps.map(([q, k, v]) => stream.step(q, k, v));
  }]);
  for (const [N, V, h] of [[1, 2, 1], [3, 17, 5], [9, 601, 37], [2, 5000, 8], [3, 20000, 8]]) {
    const input = t([N, h]), weights = t([V, h], 0.5), bias = t([V], 0.2), logits = t([N, V], 3);
    const targets = Int32Array.from({ length: N }, (_, i) => (i * 7) % V);
    const counts = Float64Array.from({ length: V }, (_, i) => 1 + ((i * 37) % 11));
    list.push([`softmax.crossEntropy ${N}x${V}`, (w) => w.softmax.crossEntropy({ logits, targets })]);
    list.push([`softmax.full ${N}x${V}x${h}`, (w) => w.softmax.full({ input, weights, bias, targets })]);
    list.push([`softmax.sampled ${N}x${V}x${h}`, (w) => w.softmax.sampled({ input, weights, bias, targets, numSampled: 1, seed: 5 })]);
    list.push([`softmax.negativeSampling ${N}x${V}x${h}`, (w) => w.softmax.negativeSampling({ input, weights, targets, negative: 5, counts, seed: 6 })]);
    if (V > 1) {
      const inner = t([V - 1, h], 0.5);
      list.push([`softmax.hierarchical ${N}x${V}x${h}`, (w) => w.softmax.hierarchical({ input, weights: inner, targets, tree: w.softmax.huffmanTree({ counts }) })]);
    }
  }
  for (const [V, dim] of [[3, 1], [601, 37], [5000, 20]]) {
    const words = Array.from({ length: V }, (_, i) => `w${i}`);
    const bytes = writeWord2Vec({ words, vectors: data(V * dim), dim }, true);
    const questions = [': s', ...Array.from({ length: 40 }, (_, q) => [1, 2, 3, 4].map((i) => words[(q * 7 + i * 13) % V]).join(' '))].join('\n');
    list.push([`skipGram queries V ${V} dim ${dim}`, (w) => {
      const model = w.skipGram.fromWord2Vec(bytes);
      const answers = [
        model.mostSimilar('w1', V), model.mostSimilar({ positive: ['w0', 'w2'], negative: ['w1'], restrictVocab: V - 1 }),
        model.mostSimilarCosmul({ positive: ['w0', 'w2'], negative: ['w1'] }), model.evaluateAnalogies(questions, { method: '3cosmul' }),
      ];
      model.dispose();
      return answers;
    }]);
  }
  return list;
}

describe('the same bits for 1, 2, 3 and 8 threads', () => {
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

  it('a worker that crashes in a call fails that call (UNSUPPORTED, nothing leaked); calls go on meanwhile and the pool recovers', async () => {
    const weft = await teamWeft(3);
    const pool = wasmInstanceOf(weft).threadPool!;
    const a = t([67, 45]), b = t([45, 29]);
    const rnn = { x: t([2, 9, 11, 5]), wIn: t([33, 5], 0.5), wLeft: t([33, 33], 0.3), wTop: t([33, 33], 0.3), bias: t([33], 0.1) };
    const expected = [bitsOf(weft.matmul(a, b)), bitsOf(weft.rnn2d.forward(rnn))];
    const calls = [() => weft.matmul(a, b), () => weft.rnn2d.forward(rnn)]; // rnn2d: threads meet at a barrier per diagonal
    for (const [i, call] of calls.entries()) {
      pool.crashThreadForTest(2);
      expectWeftError(call, 'UNSUPPORTED', /worker thread stopped during the call/);
      expect(weft.memory().liveBytes).toBe(0);
      // thread 2 is down: calls run on threads 0 and 1, same bits
      expect(pool.liveThreads).toBeLessThan(3);
      expect(bitsOf(call())).toBe(expected[i]);
      await until(() => pool.liveThreads === 3);
      expect(bitsOf(call())).toBe(expected[i]);
    }
    weft.dispose();
  });

  it('an idle worker that is terminated is started again', async () => {
    const weft = await teamWeft(2);
    const pool = wasmInstanceOf(weft).threadPool!;
    const a = t([33, 70]);
    const expected = bitsOf(weft.matmul(a, a, { transposeB: true }));
    pool.stopThreadForTest(1);
    await until(() => pool.liveThreads === 1);
    expect(bitsOf(weft.matmul(a, a, { transposeB: true }))).toBe(expected);
    await until(() => pool.liveThreads === 2);
    expect(bitsOf(weft.matmul(a, a, { transposeB: true }))).toBe(expected);
    weft.dispose();
  });

  it('idle workers keep no process alive, disposed or not', () => {
    const entry = pathToFileURL(join(import.meta.dirname, '../dist/index.js')).href;
    for (const dispose of [false, true]) {
      const script = `const { createWeft } = await import(${JSON.stringify(entry)});
const weft = await createWeft({ threads: 3 });
const a = weft.randn([300, 300], 1);
console.log(weft.features.threads, weft.matmul(a, a).data[7]);
${dispose ? 'weft.dispose();' : ''}`;
      const started = performance.now();
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^3 -?\d/);
      expect(performance.now() - started).toBeLessThan(15_000);
    }
  });

  it('scans and zero-fills large arrays on a team with the one-thread answer', async () => {
    const weft = await teamWeft(3);
    const instance = wasmInstanceOf(weft);
    const n = (1 << 18) + 37; // above the team threshold, not a multiple of the share unit
    const address = instance.heap.alloc(n * 4);
    const view = () => new Float32Array(instance.memory.buffer, address, n);
    const single = (i: number) => instance.exports.maxAbsF32({ ptr: address, n: i });
    view().set(data(n, 2));
    expect(instance.maxAbs(address, n)).toBe(single(n));
    for (const at of [0, 5, n >> 1, n - 17, n - 1]) {
      for (const value of [-7.5, Infinity, -Infinity, NaN]) {
        const before = view()[at];
        view()[at] = value;
        expect(instance.maxAbs(address, n), `${value} at ${at}`).toBe(Math.abs(value));
        view()[at] = before;
      }
    }
    instance.zeroFill(address, n * 4);
    expect(view().every((x) => x === 0)).toBe(true);
    instance.heap.free(address);
    weft.dispose();
  });

  it('auto uses the cores the runtime reports', async () => {
    const weft = await createWeft({ simd: variant });
    const { availableParallelism } = await import('node:os');
    expect(weft.features.threads).toBe(Math.min(64, availableParallelism()));
    weft.dispose();
  });
});
