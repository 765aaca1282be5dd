// The pure-JS backend: the same kernels as assembly/, in plain TypeScript. A call
// stages nothing (kernels read the caller's arrays) and scans in JS.

import type { Backend, Call, Kernels, Staged } from '../types.js';
import { maxAbsJs } from '../../tensor.js';
import { WeftError } from '../../errors.js';
import * as gemm from './gemm.js';
import * as rnn2d from './rnn2d.js';
import * as mdlstm from './mdlstm.js';
import * as conv2d from './conv2d.js';
import * as attentionFull from './attention_full.js';
import * as attentionWindowed from './attention_windowed.js';
import * as attentionLinear from './attention_linear.js';
import * as softmax from './softmax.js';
import * as skipgram from './skipgram.js';
import * as similarity from './similarity.js';

// Every kernel, by its op's name, from the twins' modules (the typecheck asks for each one).
const kernels: Kernels = {
  ...gemm, ...rnn2d, ...mdlstm, ...conv2d, ...attentionFull, ...attentionWindowed, ...attentionLinear, ...softmax, ...skipgram, ...similarity,
};

/** The caller's array, its max |x| computed in JS on first use. */
function stage(data: Float32Array): Staged {
  let max: number | undefined;
  return { data, maxAbs: () => (max ??= maxAbsJs(data)) };
}

const jsCall: Call = { stage, scannedFinite: () => false };

export function createJsBackend(): Backend {
  let disposed = false;
  return {
    name: 'js',
    features: { simd: false, relaxedSimd: false, threads: 1, threadsReason: 'the JS backend runs on the calling thread' },
    kernels,
    call: (body) => {
      if (disposed) throw new WeftError('UNSUPPORTED', 'this weft instance was disposed (weft.dispose()); create another');
      return body(jsCall);
    },
    memory: () => ({ wasmBytes: 0, liveBytes: 0 }),
    dispose: () => void (disposed = true),
  };
}
