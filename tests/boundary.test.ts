// The kernel boundary: the generated TypeScript declarations (src/backend/wasm/
// kernels.generated.ts, src/kernel_constants.generated.ts) must describe the compiled
// modules exactly: the same exports, the same number of parameters, the same constants.
// Call sites are checked against the declarations by the typecheck (named arguments).

import { describe, expect, it } from 'vitest';
import { KERNEL_PARAMETERS } from '../src/backend/wasm/kernels.generated.js';
import { KERNEL_CONSTANTS } from '../src/kernel_constants.generated.js';
import { compileKernelModule, kernelImports, supportsRelaxedSimd } from '../src/backend/wasm/instantiate.js';
import { createKernelMemory } from '../src/backend/wasm/memory.js';

const instantiate = async (module: WebAssembly.Module) =>
  (await WebAssembly.instantiate(module, kernelImports(createKernelMemory(256).memory))).exports as Record<string, unknown>;

const variants = supportsRelaxedSimd() ? (['simd', 'relaxed'] as const) : (['simd'] as const);

describe.each(variants)('the %s build', (variant) => {
  it('exports exactly the declared kernels, each with the declared number of parameters', async () => {
    const module = await compileKernelModule(variant);
    const exported = await instantiate(module);
    const functions = Object.keys(exported).filter((name) => typeof exported[name] === 'function').sort();
    expect(functions).toEqual(Object.keys(KERNEL_PARAMETERS).sort());
    for (const [name, params] of Object.entries(KERNEL_PARAMETERS)) {
      expect((exported[name] as (...args: number[]) => unknown).length, name).toBe(params.length);
    }
  });

  it('exports the constants TypeScript reads, with the same values', async () => {
    const module = await compileKernelModule(variant);
    const exported = await instantiate(module);
    const globals = Object.keys(exported).filter((name) => exported[name] instanceof WebAssembly.Global).sort();
    expect(globals).toEqual(Object.keys(KERNEL_CONSTANTS).sort());
    for (const [name, value] of Object.entries(KERNEL_CONSTANTS)) expect((exported[name] as WebAssembly.Global).value, name).toBe(value);
  });
});
