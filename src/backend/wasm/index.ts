// The WASM backend: one instantiated kernel module plus the wrappers of each op.

import type { Backend } from '../types.js';
import { WasmContext } from './context.js';
import { matmulWasm } from './gemm.js';
import { rnn2dBackwardWasm, rnn2dForwardWasm } from './rnn2d.js';
import { conv2dForwardWasm } from './conv2d.js';
import { createSkipGramTablesWasm } from './skipgram.js';
import { negativeSamplingWasm, softmaxCrossEntropyWasm, softmaxFullWasm, softmaxSampledWasm } from './softmax.js';
import { attentionKernelsWasm } from './attention_kernels.js';
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
  const kernels = await instantiateKernels(compiled);
  const relaxed = kernels.isRelaxed() === 1;
  if (module !== undefined && choice !== 'auto' && relaxed !== (choice === 'relaxed')) {
    throw new WeftError('OPTION', `createWeft: module: the module passed is the ${relaxed ? 'relaxed' : 'plain'} SIMD build, but simd: "${choice}" was asked for`);
  }
  const ctx = new WasmContext(kernels);
  return {
    name: 'wasm',
    features: { simd: true, relaxedSimd: relaxed },
    memory: () => ({ wasmBytes: ctx.heap.memoryBytes, liveBytes: ctx.heap.liveBytes }),
    matmul: (problem) => matmulWasm(ctx, problem),
    rnn2dForward: (problem) => rnn2dForwardWasm(ctx, problem),
    rnn2dBackward: (problem) => rnn2dBackwardWasm(ctx, problem),
    conv2dForward: (problem) => conv2dForwardWasm(ctx, problem),
    softmaxCrossEntropy: (problem) => softmaxCrossEntropyWasm(ctx, problem),
    softmaxFull: (problem) => softmaxFullWasm(ctx, problem),
    softmaxSampled: (problem) => softmaxSampledWasm(ctx, problem),
    negativeSampling: (problem) => negativeSamplingWasm(ctx, problem),
    createSkipGramTables: (setup) => createSkipGramTablesWasm(ctx, setup),
    ...attentionKernelsWasm(ctx),
  };
}
