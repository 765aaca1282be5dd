import { describe, expect, it, vi } from 'vitest';
import { createWeft, WeftError } from '../src/index.js';
import { compileKernelModule, supportsRelaxedSimd, supportsSimd } from '../src/backend/wasm/instantiate.js';
import { kernelModuleBytes } from '../src/backend/wasm/module_bytes.js';
import { RELAXED_PROJECT, expectWeftErrorAsync } from './helpers.js';

describe('loading', () => {
  it('the tiny probes agree with validating the real modules', async () => {
    expect(supportsSimd()).toBe(true);
    expect(WebAssembly.validate(await kernelModuleBytes('simd'))).toBe(true);
    expect(WebAssembly.validate(await kernelModuleBytes('relaxed'))).toBe(supportsRelaxedSimd());
  });

  it('the default picks the best build this runtime compiles and reports it', async () => {
    const weft = await createWeft({ threads: 1 });
    expect(weft.backend).toBe('wasm');
    expect(weft.features).toEqual({ simd: true, relaxedSimd: supportsRelaxedSimd(), threads: 1 });
    expect((await createWeft({ simd: 'simd', threads: 1 })).features).toEqual({ simd: true, relaxedSimd: false, threads: 1 });
  });

  it('the relaxed project really compiles the relaxed build', () => {
    if (RELAXED_PROJECT) expect(supportsRelaxedSimd()).toBe(true);
  });

  it.runIf(!supportsRelaxedSimd())('asking for relaxed without runtime support is UNSUPPORTED', async () => {
    await expectWeftErrorAsync(() => createWeft({ simd: 'relaxed' }), 'UNSUPPORTED', /experimental-wasm-relaxed-simd/);
  });

  it('the JS backend has the same API and no SIMD features', async () => {
    const js = await createWeft({ backend: 'js' });
    expect(js.backend).toBe('js');
    expect(js.features).toEqual({ simd: false, relaxedSimd: false, threads: 1, threadsReason: 'the JS backend runs on the calling thread' });
    const wasm = await createWeft({ threads: 1 });
    expect(Object.keys(js).sort()).toEqual(Object.keys(wasm).sort());
  });

  it('accepts a precompiled module (strict-CSP pages) and checks it against the simd option', async () => {
    const module = await compileKernelModule('simd');
    const weft = await createWeft({ module });
    expect(weft.features.relaxedSimd).toBe(false);
    const c = weft.matmul(weft.tensor(new Float32Array([2]), [1, 1]), weft.tensor(new Float32Array([5]), [1, 1]));
    expect(Array.from(c.data)).toEqual([10]);
    await expectWeftErrorAsync(() => createWeft({ module, simd: 'relaxed' }), 'OPTION', /plain SIMD build/);
  });

  it('a runtime that refuses to compile WebAssembly (a strict CSP) gets UNSUPPORTED naming the three ways out', async () => {
    // what Cloudflare Workers say; Chromium's CSP message is checked in tests/browser/csp.test.ts
    const refusal = new WebAssembly.CompileError('WebAssembly.compile(): Wasm code generation disallowed by embedder');
    vi.spyOn(WebAssembly, 'compile').mockRejectedValue(refusal);
    try {
      await expectWeftErrorAsync(() => createWeft({ threads: 1 }), 'UNSUPPORTED', /refuses to compile WebAssembly \(WebAssembly\.compile\(\): Wasm code generation disallowed by embedder\)/);
      await expectWeftErrorAsync(() => createWeft({ threads: 1 }), 'UNSUPPORTED', /'wasm-unsafe-eval'.*module: .*dist\/weft-simd\.wasm.*backend: "js"/);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('refuses a module that is not a weft kernel module', async () => {
    // () -> i32 exported as "f": a valid module, but not ours
    const foreign = new WebAssembly.Module(
      new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 65, 7, 11]),
    );
    await expectWeftErrorAsync(() => createWeft({ module: foreign }), 'OPTION', /createWeft: module: not a weft kernel module.*heapBase, isRelaxed, matmul, teamJoin/);
  });

  it('rejects unknown options with OPTION', async () => {
    await expectWeftErrorAsync(() => createWeft({ backend: 'gpu' as never }), 'OPTION', /backend/);
    await expectWeftErrorAsync(() => createWeft({ simd: 'avx' as never }), 'OPTION', /simd/);
    await expectWeftErrorAsync(() => createWeft({ module: new Uint8Array(4) as never }), 'OPTION', /module/);
    await expectWeftErrorAsync(() => createWeft([] as never), 'OPTION', /createWeft: options must be an object/);
    await expect(createWeft({ backend: 'gpu' as never })).rejects.toBeInstanceOf(WeftError);
  });

  it('the built package imports by its own name (exports map) with nothing compiled at import', async () => {
    const compile = vi.spyOn(WebAssembly, 'compile');
    const validate = vi.spyOn(WebAssembly, 'validate');
    const instantiate = vi.spyOn(WebAssembly, 'instantiate');
    const pkg = await import('weft-wasm');
    expect(compile).not.toHaveBeenCalled();
    expect(validate).not.toHaveBeenCalled();
    expect(instantiate).not.toHaveBeenCalled();
    expect(typeof pkg.createWeft).toBe('function');
    expect(pkg.ErrorCode.MEMORY).toBe('MEMORY');
    const weft = await pkg.createWeft({ simd: 'simd' });
    expect(compile).toHaveBeenCalledTimes(1);
    vi.restoreAllMocks();
    const c = weft.matmul(weft.tensor(new Float32Array([1, 2]), [1, 2]), weft.tensor(new Float32Array([3, 4]), [2, 1]));
    expect(Array.from(c.data)).toEqual([11]);
  });
});
