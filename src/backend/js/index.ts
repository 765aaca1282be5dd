// The pure-JS backend: the same kernels as assembly/, in plain TypeScript. A call
// stages nothing (kernels read the caller's arrays) and scans in JS.

import type { Backend, Call, Kernels, Staged } from '../types.js';
import { maxAbsJs } from '../../tensor.js';
import { matmul } from './gemm.js';
import { rnn2dBackward, rnn2dForward } from './rnn2d.js';
import { conv2dForward } from './conv2d.js';
import { skipGramTables } from './skipgram.js';
import { softmaxCrossEntropy, softmaxFull, softmaxNegativeSampling, softmaxSampled } from './softmax.js';
import { attentionFull, attentionFullBackward } from './attention_full.js';
import { attentionWindowed, attentionWindowedBackward } from './attention_windowed.js';
import { attentionLinear, attentionLinearBackward, attentionLinearStep } from './attention_linear.js';

const kernels: Kernels = {
  matmul,
  rnn2dForward,
  rnn2dBackward,
  conv2dForward,
  attentionFull,
  attentionFullBackward,
  attentionWindowed,
  attentionWindowedBackward,
  attentionLinear,
  attentionLinearBackward,
  attentionLinearStep,
  softmaxCrossEntropy,
  softmaxFull,
  softmaxSampled,
  softmaxNegativeSampling,
  skipGramTables,
};

/** The caller's array, its max |x| computed in JS on first use. */
function stage(data: Float32Array): Staged {
  let max: number | undefined;
  return { data, maxAbs: () => (max ??= maxAbsJs(data)) };
}

const jsCall: Call = { stage, scannedFinite: () => false };

export function createJsBackend(): Backend {
  return {
    name: 'js',
    features: { simd: false, relaxedSimd: false },
    kernels,
    call: (body) => body(jsCall),
    memory: () => ({ wasmBytes: 0, liveBytes: 0 }),
  };
}
