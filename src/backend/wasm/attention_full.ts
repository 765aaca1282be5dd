// WASM wrappers of assembly/attention_full.ts: the windowed wrappers' buffers, no band.

import type { AttentionOutput, GradientInputs, SoftmaxAttentionProblem, SoftmaxGradientArrays } from '../../ops/attention/kernels.js';
import type { WasmCall } from './call.js';
import {
  type ForwardBuffers, type SoftmaxOperands, backwardBuffers, forwardBuffers, readBackward, readForward, softmaxOperands, softmaxWork,
} from './attention_windowed.js';

function runFull(call: WasmCall, p: SoftmaxAttentionProblem, x: SoftmaxOperands, o: ForwardBuffers): void {
  call.run('attentionFull', {
    B: p.B, Hq: p.Hq, Hkv: p.Hkv, T: p.T, S: p.S, d: p.d, dv: p.dv, q: x.q, k: x.k, v: x.v, keyMask: x.keyMask,
    scale: p.scale, causal: p.causal, out: o.out, lse: o.lse, scratch: o.scratch,
  }, softmaxWork(p));
}

export function attentionFull(call: WasmCall, p: SoftmaxAttentionProblem): AttentionOutput {
  const o = forwardBuffers(call, p);
  runFull(call, p, softmaxOperands(call, p), o);
  return readForward(call, p, o);
}

export function attentionFullBackward(call: WasmCall, p: SoftmaxAttentionProblem, g: GradientInputs): SoftmaxGradientArrays {
  const x = softmaxOperands(call, p);
  const b = backwardBuffers(call, p, g, (o) => runFull(call, p, x, o));
  const maxProbability = call.run('attentionFullBackward', {
    B: p.B, Hq: p.Hq, Hkv: p.Hkv, T: p.T, S: p.S, d: p.d, dv: p.dv, q: x.q, k: x.k, v: x.v, keyMask: x.keyMask,
    scale: p.scale, causal: p.causal, out: b.out, lse: b.lse, dout: b.dout, dq: b.dq, dk: b.dk, dvOut: b.dvOut, scratch: b.scratch,
  }, 2 * softmaxWork(p));
  return readBackward(call, p, b, maxProbability);
}
