// Pages whose Content-Security-Policy forbids compiling WebAssembly, in real headless
// Chromium (the IIFE bundle, dist/ served at /dist/):
//  - `script-src 'self'`: createWeft() rejects with WeftError UNSUPPORTED naming the three
//    ways out (not Chromium's raw CompileError), and backend: 'js' runs;
//  - `script-src 'self' 'wasm-unsafe-eval'`: createWeft() runs the WASM build;
//  - `script-src 'self'` with the `module` option: the shipped dist/weft-simd.wasm compiled
//    by a worker served with its own policy (which allows compiling) runs in the page, with
//    Node's bits, on one thread and, on an isolated page, on several (workerUrl).

import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createWeft } from '../../src/index.js';
import type { CreateWeftOptions } from '../../src/index.js';
import { CROSS_ORIGIN_ISOLATION } from '../../src/cli/static-server.js';
import { chromiumPath, openIifePage, type ServedPage } from './chromium.js';

const NO_WASM_EVAL = { 'Content-Security-Policy': "script-src 'self'" };
const WASM_EVAL = { 'Content-Security-Policy': "script-src 'self' 'wasm-unsafe-eval'" };

/** A worker that compiles a shipped build and posts the module back; routed with its own policy. */
const COMPILE_WORKER = `
  onmessage = async (event) => {
    try {
      postMessage(await WebAssembly.compileStreaming(fetch(event.data)));
    } catch (err) {
      postMessage(String(err));
    }
  };
`;

/** Serve /compile-worker.js with a policy that allows compiling (a worker's policy comes from its own response). */
async function routeCompileWorker(page: Page, headers: Record<string, string>): Promise<void> {
  await page.route('**/compile-worker.js', (route) => route.fulfill({
    status: 200,
    headers: { ...headers, 'content-type': 'text/javascript', 'Content-Security-Policy': "script-src 'self' 'wasm-unsafe-eval'" },
    body: COMPILE_WORKER,
  }));
}

/** A matmul in the page on createWeft(options), or the error it threw; a `module` option is fetched from `moduleUrl` by the compile worker. */
async function matmulIn(page: Page, options: CreateWeftOptions, moduleUrl?: string) {
  return page.evaluate(async ({ options, moduleUrl }) => {
    try {
      if (moduleUrl !== undefined) {
        const worker = new Worker('/compile-worker.js');
        const module = await new Promise<unknown>((resolve) => {
          worker.onmessage = (event) => resolve(event.data);
          worker.postMessage(moduleUrl);
        });
        worker.terminate();
        if (!(module instanceof WebAssembly.Module)) return { compileWorker: String(module) };
        options = { ...options, module };
      }
      const weft = await window.weft.createWeft(options);
      const c = weft.matmul(weft.randn([33, 70], 1), weft.randn([70, 21], 2), { bias: weft.randn([21], 3) });
      weft.dispose();
      return { backend: weft.backend, features: weft.features, bits: Array.from(new Uint32Array(c.data.buffer)) };
    } catch (err) {
      const e = err as InstanceType<typeof window.weft.WeftError>;
      return { error: { isWeftError: err instanceof window.weft.WeftError, name: e.name, code: e.code, message: e.message } };
    }
  }, { options, moduleUrl });
}

async function nodeBits(options: CreateWeftOptions): Promise<number[]> {
  const weft = await createWeft({ ...options, threads: 1 });
  const c = weft.matmul(weft.randn([33, 70], 1), weft.randn([70, 21], 2), { bias: weft.randn([21], 3) });
  return Array.from(new Uint32Array(c.data.buffer));
}

describe.skipIf(!chromiumPath)('pages whose CSP forbids compiling WebAssembly', () => {
  let chromium: ServedPage | undefined;

  afterEach(async () => {
    await chromium?.close();
    chromium = undefined;
  });

  it("script-src 'self': createWeft() rejects with UNSUPPORTED naming 'wasm-unsafe-eval', module and backend: 'js'", async () => {
    chromium = await openIifePage('weft csp', NO_WASM_EVAL);
    const { error } = await matmulIn(chromium.page, {});
    expect(error).toMatchObject({ isWeftError: true, name: 'WeftError', code: 'UNSUPPORTED' });
    // Chromium's reason, then the three ways out
    expect(error?.message).toMatch(/refuses to compile WebAssembly \(WebAssembly\.compile\(\): .*Content Security Policy directive: "script-src 'self'"/);
    expect(error?.message).toContain("add 'wasm-unsafe-eval' to script-src");
    expect(error?.message).toContain("pass module: a WebAssembly.Module of the package's dist/weft-simd.wasm");
    expect(error?.message).toContain('use backend: "js"');
    const js = await matmulIn(chromium.page, { backend: 'js' });
    expect(js.backend).toBe('js');
    expect(js.bits).toHaveLength(33 * 21);
    expect(chromium.errors).toEqual([]);
  });

  it("script-src 'self' 'wasm-unsafe-eval': createWeft() runs the WASM build", async () => {
    chromium = await openIifePage('weft csp wasm-unsafe-eval', WASM_EVAL);
    const result = await matmulIn(chromium.page, { simd: 'simd' });
    expect(result.error).toBeUndefined();
    expect(result.features).toMatchObject({ simd: true, relaxedSimd: false });
    expect(result.bits).toEqual(await nodeBits({ simd: 'simd' }));
    expect(chromium.errors).toEqual([]);
  });

  it("script-src 'self' with module: the shipped dist/weft-simd.wasm, compiled by a worker, runs with Node's bits", async () => {
    chromium = await openIifePage('weft csp module', NO_WASM_EVAL);
    await routeCompileWorker(chromium.page, {});
    const result = await matmulIn(chromium.page, {}, '/dist/weft-simd.wasm');
    expect(result.error).toBeUndefined();
    expect(result.compileWorker).toBeUndefined();
    // not isolated: one thread, and the reason
    expect(result.features).toMatchObject({ simd: true, relaxedSimd: false, threads: 1 });
    expect(result.bits).toEqual(await nodeBits({ simd: 'simd' }));
    expect(chromium.errors).toEqual([]);
  });

  it("script-src 'self' with module on an isolated page: the relaxed build on two threads (workerUrl), with Node's bits", async () => {
    chromium = await openIifePage('weft csp module threads', { ...CROSS_ORIGIN_ISOLATION, ...NO_WASM_EVAL });
    await routeCompileWorker(chromium.page, CROSS_ORIGIN_ISOLATION);
    const result = await matmulIn(chromium.page, { threads: 2, workerUrl: '/dist/weft-worker.js' }, '/dist/weft-relaxed.wasm');
    expect(result.error).toBeUndefined();
    expect(result.features).toMatchObject({ simd: true, relaxedSimd: true, threads: 2 });
    // Node 20 compiles the relaxed build only under --experimental-wasm-relaxed-simd, which the browser project passes
    expect(result.bits).toEqual(await nodeBits({ simd: 'relaxed' }));
    expect(chromium.errors).toEqual([]);
  });
});
