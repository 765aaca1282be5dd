// Feature detection and instantiation of the kernel modules. Both builds (plain SIMD,
// relaxed SIMD) come from module_bytes.ts (embedded in the ESM and IIFE bundles, read
// from the shipped .wasm files by the CommonJS one); nothing is decoded or compiled
// until createWeft() asks.

import { WeftError } from '../../errors.js';
import { kernelModuleBytes } from './module_bytes.js';
import { type KernelExports, bindKernelExports } from './kernels.generated.js';
import { MAX_PAGES, createKernelMemory, withUnsharedMemoryImport } from './memory.js';

/** Which WASM build createWeft compiles: 'auto' (relaxed where the runtime compiles it), 'relaxed' or 'simd'. */
export type SimdChoice = 'auto' | 'relaxed' | 'simd';

/** What a weft instance uses. */
export interface Features {
  /** WebAssembly SIMD (false for the JS backend). */
  simd: boolean;
  /** Relaxed SIMD (fused multiply-add): the relaxed build. */
  relaxedSimd: boolean;
  /** Threads calls run on, the caller's included (1 for the JS backend). */
  threads: number;
  /** Why `threads` is 1 where more were asked for or 'auto' found one: e.g. a page that is not cross-origin isolated. */
  threadsReason?: string;
}

// Smallest modules that use one instruction each: () -> v128 returning
// v128.const 0 (SIMD), or f32x4.relaxed_madd of three v128.const (relaxed SIMD).
function probeModule(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x01, body.length, ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x0a, code.length, ...code, // code section
  ]);
}
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

/** True when this runtime compiles WebAssembly SIMD (v128). */
export function supportsSimd(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(probeModule([0x00, ...V128_ZERO, 0x0b]));
}

/** True when this runtime compiles relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd). */
export function supportsRelaxedSimd(): boolean {
  const madd = [0xfd, 0x85, 0x02]; // f32x4.relaxed_madd
  return (
    typeof WebAssembly === 'object' &&
    WebAssembly.validate(probeModule([0x00, ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, ...madd, 0x0b]))
  );
}

/** Pick the build for a `simd` option, throwing UNSUPPORTED when the runtime cannot run it. */
export function chooseVariant(choice: SimdChoice): 'simd' | 'relaxed' {
  if (!supportsSimd()) {
    throw new WeftError(
      'UNSUPPORTED',
      'this runtime has no WebAssembly SIMD; use createWeft({ backend: "js" }) for the pure-JS backend',
    );
  }
  const relaxed = supportsRelaxedSimd();
  if (choice === 'relaxed' && !relaxed) {
    throw new WeftError(
      'UNSUPPORTED',
      'simd: "relaxed" asked for, but this runtime cannot compile relaxed SIMD ' +
        '(Node 20 needs --experimental-wasm-relaxed-simd; Node 22+ and Chromium 114+ have it)',
    );
  }
  if (choice === 'simd') return 'simd';
  return relaxed ? 'relaxed' : 'simd';
}

/** An instantiated kernel module: its exports with named arguments, and its memory. */
export interface KernelInstance {
  exports: KernelExports;
  memory: WebAssembly.Memory;
}

/** The imports of a kernel module: its memory, and `env.abort` (never called by correct kernels). */
export function kernelImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort(_message: number, _file: number, line: number, column: number): never {
        throw new Error(`weft internal error: WASM kernel aborted at ${line}:${column}`);
      },
    },
  };
}

/** Instantiate a kernel module over `memory` (by default a new one, shared where the runtime allows). */
export async function instantiateKernels(
  module: WebAssembly.Module, memory: WebAssembly.Memory = createKernelMemory(MAX_PAGES).memory,
): Promise<KernelInstance> {
  const instance = await WebAssembly.instantiate(module, kernelImports(memory));
  return { exports: bindKernelExports(instance.exports), memory };
}

/**
 * Compile the bytes of `variant` for a shared memory (by default) or, where the runtime
 * has none, an ordinary one.
 */
export async function compileKernelModule(variant: 'simd' | 'relaxed', sharedMemory = true): Promise<WebAssembly.Module> {
  const module = await kernelModuleBytes(variant);
  const bytes = sharedMemory ? module : withUnsharedMemoryImport(module);
  try {
    return await WebAssembly.compile(bytes);
  } catch (err) {
    // Bytes that validate but do not compile: the embedder refuses to compile any module
    // (a page whose Content-Security-Policy lacks 'wasm-unsafe-eval': Chromium throws a
    // CompileError naming the directive). Say what works there instead.
    if (WebAssembly.validate(bytes)) throw new WeftError('UNSUPPORTED', refusedToCompile(err));
    throw err;
  }
}

/** The message of a refused compilation: the runtime's reason, then the three ways out. */
function refusedToCompile(err: unknown): string {
  return `createWeft: this runtime refuses to compile WebAssembly (${err instanceof Error ? err.message : String(err)}). ` +
    "A page whose Content-Security-Policy forbids it can add 'wasm-unsafe-eval' to script-src; " +
    "or pass module: a WebAssembly.Module of the package's dist/weft-simd.wasm or dist/weft-relaxed.wasm, " +
    'compiled where compiling is allowed (e.g. a worker served with its own policy); ' +
    'or use backend: "js" (the pure-JS kernels, no WebAssembly)';
}
