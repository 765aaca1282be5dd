// The pure-JS backend: the same kernels as assembly/, in plain TypeScript.

import type { Backend } from '../types.js';
import { matmulJs } from './gemm.js';
import { rnn2dBackwardJs, rnn2dForwardJs } from './rnn2d.js';
import { conv2dForwardJs } from './conv2d.js';
import { createSkipGramTablesJs } from './skipgram.js';
import { negativeSamplingJs, softmaxCrossEntropyJs, softmaxFullJs, softmaxSampledJs } from './softmax.js';
import { attentionKernelsJs } from './attention.js';

export function createJsBackend(): Backend {
  return {
    name: 'js',
    features: { simd: false, relaxedSimd: false },
    memory: () => ({ wasmBytes: 0, liveBytes: 0 }),
    matmul: matmulJs,
    rnn2dForward: rnn2dForwardJs,
    rnn2dBackward: rnn2dBackwardJs,
    conv2dForward: conv2dForwardJs,
    softmaxCrossEntropy: softmaxCrossEntropyJs,
    softmaxFull: softmaxFullJs,
    softmaxSampled: softmaxSampledJs,
    negativeSampling: negativeSamplingJs,
    createSkipGramTables: createSkipGramTablesJs,
    ...attentionKernelsJs,
  };
}
