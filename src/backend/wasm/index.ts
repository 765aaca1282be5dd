// The WASM backend: one instantiated kernel module, the heap over its memory, and
// the wrapper of each op's kernel (copy in, call, copy out: src/backend/wasm/call.ts).

import type { Backend, Kernels } from '../types.js';
import { WasmInstance } from './call.js';
import * as gemm from './gemm.js';
import * as rnn2d from './rnn2d.js';
import * as conv2d from './conv2d.js';
import * as attentionFull from './attention_full.js';
import * as attentionWindowed from './attention_windowed.js';
import * as attentionLinear from './attention_linear.js';
import * as softmax from './softmax.js';
import { skipGramTables } from './skipgram.js';
import { SimdChoice, chooseVariant, compileEmbedded, instantiateKernels, supportsSimd } from './instantiate.js';
import { WeftError } from '../../errors.js';
/** Exports every weft kernel module has; a module without them is not one of ours. */
const CORE_EXPORTS = ['memory', 'heapBase', 'isRelaxed', 'matmul'];

function checkKernelModule(module: WebAssembly.Module): void {
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = CORE_EXPORTS.filter((name) => !exported.has(name));
  if (missing.length > 0) {
    throw new WeftError('OPTION', `createWeft: module: not a weft kernel module (it does not export ${missing.join(', ')})`);
  }
  const imports = WebAssembly.Module.imports(module).filter((i) => !(i.module === 'env' && i.name === 'abort'));
  if (imports.length > 0) {
    throw new WeftError('OPTION', `createWeft: module: not a weft kernel module (it imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')})`);
  }
}

export async function createWasmBackend(choice: SimdChoice, module?: WebAssembly.Module): Promise<Backend> {
  let compiled: WebAssembly.Module;
  if (module !== undefined) {
    if (!supportsSimd()) throw new WeftError('UNSUPPORTED', 'this runtime has no WebAssembly SIMD');
    checkKernelModule(module);
    compiled = module;
  } else {
    compiled = await compileEmbedded(chooseVariant(choice));
  }
  const { exports, memory } = await instantiateKernels(compiled);
  const relaxed = exports.isRelaxed() === 1;
  if (module !== undefined && choice !== 'auto' && relaxed !== (choice === 'relaxed')) {
    throw new WeftError('OPTION', `createWeft: module: the module passed is the ${relaxed ? 'relaxed' : 'plain'} SIMD build, but simd: "${choice}" was asked for`);
  }
  const instance = new WasmInstance(exports, memory);
  // Every kernel, by its op's name, from the wrappers' modules (the typecheck asks for each
  // one); each wrapper receives the WasmCall its own backend made (Backend.call below).
  const kernels: Kernels = {
    ...gemm, ...rnn2d, ...conv2d, ...attentionFull, ...attentionWindowed, ...attentionLinear, ...softmax,
    skipGramTables: (setup) => skipGramTables(instance, setup),
  };
  return {
    name: 'wasm',
    features: { simd: true, relaxedSimd: relaxed },
    kernels,
    call: (body) => instance.call(body),
    memory: () => ({ wasmBytes: instance.heap.memoryBytes, liveBytes: instance.heap.liveBytes }),
  };
}
