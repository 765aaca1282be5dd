// Threads in real headless Chromium (the IIFE bundle, dist/weft-worker.js beside it):
//  - a cross-origin isolated page runs createWeft() on several threads (workers from a
//    blob: URL, the main thread spinning at the barriers) with the same bits as one thread;
//  - a page without COOP/COEP falls back to one thread and says which headers it needs;
//  - a page whose CSP forbids blob: workers falls back too, and runs on several threads
//    with workerUrl.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { CreateWeftOptions, Features, Tensor, Weft } from '../../src/index.js';
import { CROSS_ORIGIN_ISOLATION } from '../../src/cli/static-server.js';
import { chromiumPath, openIifePage, type ServedPage } from './chromium.js';

/** Allows same-origin scripts and workers and compiling WASM, nothing else (no blob:, no inline script, no eval). */
const STRICT_CSP = { 'Content-Security-Policy': "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'" };

interface Comparison {
  features: Features;
  /** Per call: its name, result bytes, and the first byte that differs from the one-thread run (-1: none). */
  calls: { name: string; bytes: number; firstDifference: number }[];
}

/**
 * Runs in the page (serialised by playwright, so self-contained): the same calls on
 * createWeft({ threads: 1 }) and on createWeft(options), their results compared byte for
 * byte. Under the default work policy (a thread per 2e6 flops) 1x3x5 and 130x31x66 stay on
 * the calling thread (tests/threads.test.ts forces them onto teams in Node); the other
 * products, at awkward sizes (M < 4, rows and panels that do not split evenly, a batch with
 * its own B per item), run on teams, and the larger ones grow the shared memory between
 * calls. The other ops run on one thread today, but must give the same bits over a shared memory.
 */
async function compareWithOneThread(options: CreateWeftOptions): Promise<Comparison> {
  const { createWeft } = window.weft;
  const one = await createWeft({ threads: 1 });
  const many = await createWeft(options);
  const r = (shape: number[], seed: number) => one.randn(shape, seed);
  const calls: [string, (w: Weft) => Tensor][] = [];
  for (const [M, K, N, batch] of [[1, 3, 5, 0], [130, 31, 66, 0], [300, 40, 520, 0], [3, 700, 1000, 0], [130, 310, 66, 0], [65, 257, 130, 3], [513, 257, 1030, 0]]) {
    const a = r(batch ? [batch, M, K] : [M, K], 1), b = r(batch ? [batch, K, N] : [K, N], 2), bias = r([N], 3);
    calls.push([`matmul ${batch ? `${batch}x` : ''}${M}x${K}x${N}`, (w) => w.matmul(a, b, { bias })]);
  }
  const q = r([2, 4, 130, 16], 4), k = r([2, 2, 130, 16], 5), v = r([2, 2, 130, 9], 6);
  calls.push(['attention.windowed out', (w) => w.attention.windowed({ q, k, v, window: [17, 5], causal: false }).out]);
  calls.push(['attention.windowed lse', (w) => w.attention.windowed({ q, k, v, window: [17, 5], causal: false }).lse]);
  const x = r([2, 9, 13, 3], 7), wIn = r([17, 3], 8), wLeft = r([17, 17], 9), wTop = r([17, 17], 10), rnnBias = r([17], 11);
  for (const t of [wLeft, wTop]) for (let i = 0; i < t.data.length; i++) t.data[i] *= 0.2;
  calls.push(['rnn2d.forward', (w) => w.rnn2d.forward({ x, wIn, wLeft, wTop, bias: rnnBias, origin: 'bottom-right' }).h]);
  const result: Comparison = { features: many.features, calls: [] };
  for (const [name, run] of calls) {
    const expected = run(one).data, actual = run(many).data;
    const e = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
    const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
    let firstDifference = e.length === a.length ? -1 : Math.min(e.length, a.length);
    for (let i = 0; i < e.length && firstDifference < 0; i++) if (e[i] !== a[i]) firstDifference = i;
    result.calls.push({ name, bytes: a.length, firstDifference });
  }
  one.dispose();
  many.dispose();
  return result;
}

function expectSameBits(comparison: Comparison): void {
  expect(comparison.calls.length).toBeGreaterThan(0);
  for (const call of comparison.calls) {
    expect(call.bytes, call.name).toBeGreaterThan(0);
    expect(call.firstDifference, `${call.name}: first differing byte`).toBe(-1);
  }
}

/** What createWeft(options) gives in the page: its features (the instance disposed), or whether it threw a WeftError, its code and message. */
async function createIn(page: Page, options: CreateWeftOptions) {
  return page.evaluate(async (options) => {
    try {
      const weft = await window.weft.createWeft(options);
      weft.dispose();
      return { features: weft.features };
    } catch (err) {
      const e = err as InstanceType<typeof window.weft.WeftError>;
      return { error: { isWeftError: err instanceof window.weft.WeftError, code: e.code, message: e.message } };
    }
  }, options);
}

describe.skipIf(!chromiumPath)('threads on a cross-origin isolated page', () => {
  let chromium: ServedPage;

  beforeAll(async () => {
    chromium = await openIifePage('weft threads', CROSS_ORIGIN_ISOLATION);
  });

  afterAll(async () => {
    await chromium?.close();
  });

  it('createWeft() runs on every core and gives the bits of one thread', async () => {
    const cores = await chromium.page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
    expect(cores.isolated).toBe(true);
    const comparison = await chromium.page.evaluate(compareWithOneThread, {});
    expect(comparison.features.threads, `navigator.hardwareConcurrency is ${cores.cores}`).toBe(Math.min(64, cores.cores));
    expect(comparison.features.threads).toBeGreaterThan(1);
    expect(comparison.features.threadsReason).toBeUndefined();
    expectSameBits(comparison);
    expect(chromium.errors).toEqual([]);
  });

  it('threads: 3 (teams that split work unevenly) gives the bits of one thread', async () => {
    const comparison = await chromium.page.evaluate(compareWithOneThread, { threads: 3 });
    expect(comparison.features.threads).toBe(3);
    expectSameBits(comparison);
    expect(chromium.errors).toEqual([]);
  });

  it('dispose() ends every worker of the instance, also for pools created and disposed in a row', async () => {
    const workers = () => chromium.page.workers().length;
    // a disposed pool's supervisor is terminated a second after its threads were told to end
    const settled = { timeout: 10_000 };
    await expect.poll(workers, settled).toBe(0);
    await chromium.page.evaluate(async () => {
      (window as unknown as { kept: Weft }).kept = await window.weft.createWeft({ threads: 3 });
    });
    // the supervisor and its two threads
    await expect.poll(workers, settled).toBe(3);
    await chromium.page.evaluate(() => (window as unknown as { kept: Weft }).kept.dispose());
    await expect.poll(workers, settled).toBe(0);
    // supervisors ended while their threads were still alive stayed alive for good (2-30% of them)
    await chromium.page.evaluate(async () => {
      for (let i = 0; i < 8; i++) {
        const weft = await window.weft.createWeft({ threads: 3 });
        weft.matmul(weft.randn([300, 300], 1), weft.randn([300, 300], 2));
        weft.dispose();
      }
    });
    await expect.poll(workers, settled).toBe(0);
    expect(chromium.errors).toEqual([]);
  });
});

describe.skipIf(!chromiumPath)('threads on a page without COOP/COEP', () => {
  let chromium: ServedPage;

  beforeAll(async () => {
    chromium = await openIifePage('weft not isolated');
  });

  afterAll(async () => {
    await chromium?.close();
  });

  it('createWeft() runs on one thread and says which headers threads need', async () => {
    expect(await chromium.page.evaluate(() => crossOriginIsolated)).toBe(false);
    const { features } = await createIn(chromium.page, {});
    expect(features?.threads).toBe(1);
    expect(features?.threadsReason).toMatch(/not cross-origin isolated/);
    expect(features?.threadsReason).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(features?.threadsReason).toContain('Cross-Origin-Embedder-Policy: require-corp');
    // workerUrl does not help: the page has no SharedArrayBuffer
    expect((await createIn(chromium.page, { workerUrl: '/dist/weft-worker.js' })).features?.threadsReason).toMatch(/not cross-origin isolated/);
    expect(chromium.errors).toEqual([]);
  });

  it('createWeft({ threads: 2 }) rejects with UNSUPPORTED naming the headers', async () => {
    const { error } = await createIn(chromium.page, { threads: 2 });
    expect(error).toMatchObject({ isWeftError: true, code: 'UNSUPPORTED' });
    expect(error?.message).toContain('threads: 2');
    expect(error?.message).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(error?.message).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(chromium.errors).toEqual([]);
  });
});

describe.skipIf(!chromiumPath)('threads on an isolated page whose CSP forbids blob: workers', () => {
  let chromium: ServedPage;

  beforeAll(async () => {
    chromium = await openIifePage('weft strict CSP', { ...CROSS_ORIGIN_ISOLATION, ...STRICT_CSP });
  });

  afterAll(async () => {
    await chromium?.close();
  });

  it('createWeft() falls back to one thread and points at workerUrl', async () => {
    const { features } = await createIn(chromium.page, {});
    expect(features?.threads).toBe(1);
    expect(features?.threadsReason).toMatch(/^worker threads could not start: .*workerUrl/);
    // the only errors: Chromium reporting the blocked blob: worker
    expect(chromium.errors.length).toBeGreaterThan(0);
    for (const error of chromium.errors) expect(error).toMatch(/^Creating a worker from 'blob:.*violates the following Content Security Policy directive: "worker-src 'self'"/);
    chromium.errors.length = 0;
  });

  it('workerUrl: the workers start from dist/weft-worker.js and give the bits of one thread', async () => {
    const comparison = await chromium.page.evaluate(compareWithOneThread, { workerUrl: '/dist/weft-worker.js' });
    expect(comparison.features.threads).toBeGreaterThan(1);
    expectSameBits(comparison);
    expect(chromium.errors).toEqual([]);
  });

  it('a relative workerUrl is resolved against the page, also where the supervisor worker starts the threads', async () => {
    // the page is at /: 'dist/weft-worker.js' resolved against the worker script's own URL would be /dist/dist/weft-worker.js
    const { features } = await createIn(chromium.page, { workerUrl: 'dist/weft-worker.js', threads: 2 });
    expect(features?.threads).toBe(2);
    expect(chromium.errors).toEqual([]);
  });

  it('a workerUrl that does not load: UNSUPPORTED for threads: 2, and the reason says what the URL must serve', async () => {
    const { error } = await createIn(chromium.page, { workerUrl: '/dist/missing.js', threads: 2 });
    expect(error).toMatchObject({ isWeftError: true, code: 'UNSUPPORTED' });
    expect(error?.message).toMatch(/worker threads could not start: .*workerUrl \/dist\/missing\.js: it must serve dist\/weft-worker\.js/);
    const { features } = await createIn(chromium.page, { workerUrl: '/dist/missing.js' });
    expect(features?.threads).toBe(1);
    expect(features?.threadsReason).toMatch(/Cross-Origin-Embedder-Policy: require-corp like the page/);
    chromium.errors.length = 0; // Chromium may log the 404
  });
});
