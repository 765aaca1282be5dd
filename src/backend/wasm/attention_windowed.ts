// WASM wrappers of assembly/attention_windowed.ts (and the helpers attention_full.ts
// shares): run the kernel on the staged q, k, v (copying the key mask and the global
// positions in), copy out and lse (or dq, dk, dv) out.

import type {
  AttentionOutput, GradientInputs, SoftmaxAttentionProblem, SoftmaxGradientArrays,
} from '../../ops/attention/kernels.js';
import { KERNEL_CONSTANTS } from '../../kernel_constants.generated.js';
import type { WasmCall } from './call.js';

/** A window edge as the kernels take it: Infinity becomes their UNBOUNDED. */
function edge(w: number): number {
  return Math.min(w, KERNEL_CONSTANTS.UNBOUNDED);
}

/** The arguments the full and windowed kernels share: sizes, operands, options. */
export function operandArgs(call: WasmCall, p: SoftmaxAttentionProblem) {
  return {
    B: p.B, Hq: p.Hq, Hkv: p.Hkv, T: p.T, S: p.S, d: p.d, dv: p.dv,
    q: call.address(p.q), k: call.address(p.k), v: call.address(p.v),
    keyMask: p.keyMask ? call.input(p.keyMask, 'attention keyMask') : 0, scale: p.scale, causal: p.causal,
  };
}

/** The band's arguments (windowed only). */
function bandArgs(call: WasmCall, p: SoftmaxAttentionProblem) {
  const G = p.band.globals.length;
  return {
    left: edge(p.band.left), right: edge(p.band.right), dilation: p.band.dilation,
    globals: G > 0 ? call.input(p.band.globals, 'attention globalTokens') : 0, G,
  };
}

/** Output buffers (and scratch) of a forward. */
export function forwardOutputs(call: WasmCall, p: SoftmaxAttentionProblem) {
  return {
    out: call.allocF32(p.B * p.Hq * p.T * p.dv, 'attention out'),
    lse: call.allocF32(p.B * p.Hq * p.T, 'attention lse'),
    scratch: call.allocF32(
      call.exports.attentionWindowedScratchFloats({ S: p.S, d: p.d, dv: p.dv, G: p.band.globals.length }), 'attention scratch',
    ),
  };
}

export function readForward(call: WasmCall, p: SoftmaxAttentionProblem, o: { out: number; lse: number }): AttentionOutput {
  return { out: call.readF32(o.out, p.B * p.Hq * p.T * p.dv), lse: call.readF32(o.lse, p.B * p.Hq * p.T) };
}

/**
 * A backward's given (out, lse) or, when not given, the forward run here to produce them;
 * zeroed dq, dk, dv and the scratch.
 */
export function backwardBuffers(
  call: WasmCall, p: SoftmaxAttentionProblem, g: GradientInputs, runForward: (o: ReturnType<typeof forwardOutputs>) => void,
) {
  let forward: { out: number; lse: number };
  if (g.out && g.lse) {
    forward = { out: call.address(g.out), lse: call.address(g.lse) };
  } else {
    const o = forwardOutputs(call, p);
    runForward(o);
    forward = o;
  }
  const sizes = { dq: p.B * p.Hq * p.T * p.d, dk: p.B * p.Hkv * p.S * p.d, dv: p.B * p.Hkv * p.S * p.dv };
  const buffers = {
    ...forward,
    dout: call.address(g.dout),
    dq: call.allocZeroed(sizes.dq * 4, 'attention dq'),
    dk: call.allocZeroed(sizes.dk * 4, 'attention dk'),
    dvOut: call.allocZeroed(sizes.dv * 4, 'attention dv'),
    scratch: call.allocF32(
      call.exports.attentionWindowedBackwardScratchFloats({ T: p.T, S: p.S, d: p.d, dv: p.dv, G: p.band.globals.length }),
      'attention backward scratch',
    ),
  };
  const read = (maxProbability: number): SoftmaxGradientArrays => ({
    dq: call.readF32(buffers.dq, sizes.dq), dk: call.readF32(buffers.dk, sizes.dk), dv: call.readF32(buffers.dvOut, sizes.dv), maxProbability,
  });
  return { buffers, read };
}

export function attentionWindowed(call: WasmCall, p: SoftmaxAttentionProblem): AttentionOutput {
  const o = forwardOutputs(call, p);
  call.exports.attentionWindowed({ ...operandArgs(call, p), ...bandArgs(call, p), ...o });
  return readForward(call, p, o);
}

export function attentionWindowedBackward(call: WasmCall, p: SoftmaxAttentionProblem, g: GradientInputs): SoftmaxGradientArrays {
  const operands = operandArgs(call, p), band = bandArgs(call, p);
  const { buffers, read } = backwardBuffers(call, p, g, (o) => call.exports.attentionWindowed({ ...operands, ...band, ...o }));
  return read(call.exports.attentionWindowedBackward({ ...operands, ...band, ...buffers }));
}
