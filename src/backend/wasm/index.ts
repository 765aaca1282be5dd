// The WASM backend: one instantiated kernel module, the heap over its memory, and
// the wrapper of each op's kernel (copy in, call, copy out: src/backend/wasm/call.ts).

import type { Backend, Kernels } from '../types.js';
import { KERNEL_NAMES, WasmInstance } from './call.js';
import * as gemm from './gemm.js';
import * as rnn2d from './rnn2d.js';
import * as mdlstm from './mdlstm.js';
import * as conv2d from './conv2d.js';
import * as attentionFull from './attention_full.js';
import * as attentionWindowed from './attention_windowed.js';
import * as attentionLinear from './attention_linear.js';
import * as softmax from './softmax.js';
import { skipGramTables } from './skipgram.js';
import { similarityTable } from './similarity.js';
import { SimdChoice, chooseVariant, compileKernelModule, instantiateKernels, supportsSimd } from './instantiate.js';
import { createKernelMemory } from './memory.js';
import { ThreadPool, callerMayBlock } from './pool.js';
import { CONTROL_BYTES } from './pool_control.js';
import { type ThreadsOption, reportedCores, whyNoThreads } from './threads.js';
import { WeftError } from '../../errors.js';
/** Exports every weft kernel module has; a module without them is not one of ours. */
const CORE_EXPORTS = ['heapBase', 'isRelaxed', 'matmul', 'teamJoin'];
/** What a weft kernel module imports. */
const KERNEL_IMPORTS = ['env.abort', 'env.memory'];

function checkKernelModule(module: WebAssembly.Module): void {
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = CORE_EXPORTS.filter((name) => !exported.has(name));
  if (missing.length > 0) {
    throw new WeftError('OPTION', `createWeft: module: not a weft kernel module (it does not export ${missing.join(', ')})`);
  }
  const imports = WebAssembly.Module.imports(module).filter((i) => !KERNEL_IMPORTS.includes(`${i.module}.${i.name}`));
  if (imports.length > 0) {
    throw new WeftError('OPTION', `createWeft: module: not a weft kernel module (it imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')})`);
  }
}

/** What createWeft passes the WASM backend. */
export interface WasmBackendOptions {
  simd: SimdChoice;
  module?: WebAssembly.Module;
  threads: ThreadsOption;
  /** Largest WASM memory, in 64 KiB pages. */
  maxPages: number;
  workerUrl?: string;
}

export async function createWasmBackend(options: WasmBackendOptions): Promise<Backend & { instance: WasmInstance }> {
  const { module } = options;
  if (module !== undefined) {
    if (!supportsSimd()) throw new WeftError('UNSUPPORTED', 'this runtime has no WebAssembly SIMD');
    checkKernelModule(module);
  }
  const variant = module === undefined ? chooseVariant(options.simd) : undefined;
  const explicit = options.threads !== 'auto';
  let threads = explicit ? (options.threads as number) : await reportedCores();
  let threadsReason = !explicit && threads === 1 ? 'the runtime reports one core' : undefined;
  if (threads > 1) {
    const why = whyNoThreads();
    if (why && explicit) throw new WeftError('UNSUPPORTED', `createWeft: threads: ${threads} asked for, but ${why}`);
    if (why) [threads, threadsReason] = [1, why];
  }
  // one thread runs on an ordinary memory (a shared one costs it 2-5% on copy-heavy calls);
  // a module passed in imports a shared memory whatever the threads
  const { memory, shared, reason } = createKernelMemory(options.maxPages, threads > 1 || module !== undefined);
  if (!shared && module !== undefined) {
    throw new WeftError('UNSUPPORTED', `createWeft: module: it imports a shared memory, but ${reason}; leave module out to use the embedded build`);
  }
  if (!shared && threads > 1) {
    if (explicit) throw new WeftError('UNSUPPORTED', `createWeft: threads: ${threads} asked for, but ${reason}`);
    [threads, threadsReason] = [1, reason];
  }
  const compiled = module ?? (await compileKernelModule(variant!, shared));
  const { exports } = await instantiateKernels(compiled, memory);
  const relaxed = exports.isRelaxed() === 1;
  if (module !== undefined && options.simd !== 'auto' && relaxed !== (options.simd === 'relaxed')) {
    throw new WeftError('OPTION', `createWeft: module: the module passed is the ${relaxed ? 'relaxed' : 'plain'} SIMD build, but simd: "${options.simd}" was asked for`);
  }
  const instance = new WasmInstance(exports, memory);
  if (threads > 1) {
    const started = await startPool(instance, compiled, threads, options.workerUrl);
    if (typeof started === 'string') {
      if (explicit) throw new WeftError('UNSUPPORTED', `createWeft: threads: ${threads} asked for, but ${started}`);
      [threads, threadsReason] = [1, started];
    }
  }
  // Every kernel, by its op's name, from the wrappers' modules (the typecheck asks for each
  // one); each wrapper receives the WasmCall its own backend made (Backend.call below).
  const kernels: Kernels = {
    ...gemm, ...rnn2d, ...mdlstm, ...conv2d, ...attentionFull, ...attentionWindowed, ...attentionLinear, ...softmax,
    skipGramTables: (setup) => skipGramTables(instance, setup),
    similarityTable: (unitRows, size, dim) => similarityTable(instance, unitRows, size, dim),
  };
  return {
    name: 'wasm',
    features: { simd: true, relaxedSimd: relaxed, threads, ...(threadsReason ? { threadsReason } : {}) },
    kernels,
    call: (body) => instance.call(body),
    memory: () => ({ wasmBytes: instance.heap.memoryBytes, liveBytes: instance.heap.liveBytes }),
    dispose: () => instance.dispose(),
    instance,
  };
}

/** Start the pool of `threads - 1` workers and attach it; the reason when they cannot start. */
async function startPool(instance: WasmInstance, module: WebAssembly.Module, threads: number, workerUrl?: string): Promise<true | string> {
  const { control } = instance;
  new Uint8Array(instance.memory.buffer, control, CONTROL_BYTES).fill(0);
  try {
    const pool = await ThreadPool.start(module, instance.memory, control, { threads, workerUrl, kernels: KERNEL_NAMES });
    instance.exports.teamJoin({ threadIndex: 0, controlBlock: control, canWait: callerMayBlock() ? 1 : 0 });
    instance.attachPool(pool);
    return true;
  } catch (err) {
    // a browser reports a worker that did not load (blocked by CSP, 404, no COEP header) with no detail
    const hint = workerUrl === undefined
      ? ' (a page whose CSP forbids blob: workers can pass workerUrl: the URL of dist/weft-worker.js)'
      : ` (workerUrl ${workerUrl}: it must serve dist/weft-worker.js as JavaScript, be allowed by the page's CSP ` +
        'worker-src, and carry Cross-Origin-Embedder-Policy: require-corp like the page)';
    return `worker threads could not start: ${(err as Error).message}${hint}`;
  }
}
