// WASM wrappers of assembly/attention_windowed.ts (and the helpers attention_full.ts
// shares): run the kernel on the staged q, k, v (copying the key mask and the global
// positions in), copy out and lse (or dq, dk, dv) out. Kernel arguments are written out
// in full (object spread into them cost ~1 us a call).

import type {
  AttentionOutput, GradientInputs, SoftmaxAttentionProblem, SoftmaxGradientArrays,
} from '../../ops/attention/kernels.js';
import { KERNEL_CONSTANTS } from '../../kernel_constants.generated.js';
import type { WasmCall } from './call.js';

/** A window edge as the kernels take it: Infinity becomes their UNBOUNDED. */
function edge(w: number): number {
  return Math.min(w, KERNEL_CONSTANTS.UNBOUNDED);
}

/** What a forward writes: out, lse (and its scratch). */
export interface ForwardBuffers {
  out: number;
  lse: number;
  scratch: number;
}

/** The operands and options the full and windowed kernels share. */
export interface SoftmaxOperands {
  q: number;
  k: number;
  v: number;
  keyMask: number;
}

export function softmaxOperands(call: WasmCall, p: SoftmaxAttentionProblem): SoftmaxOperands {
  return {
    q: call.address(p.q), k: call.address(p.k), v: call.address(p.v),
    keyMask: p.keyMask ? call.input(p.keyMask, 'attention keyMask') : 0,
  };
}

export function forwardBuffers(call: WasmCall, p: SoftmaxAttentionProblem): ForwardBuffers {
  return {
    out: call.allocF32(p.B * p.Hq * p.T * p.dv, 'attention out'),
    lse: call.allocF32(p.B * p.Hq * p.T, 'attention lse'),
    scratch: call.allocF32(
      call.exports.attentionWindowedScratchFloats({ S: p.S, d: p.d, dv: p.dv, G: p.band.globals.length, threads: call.threads }),
      'attention scratch',
    ),
  };
}

export function readForward(call: WasmCall, p: SoftmaxAttentionProblem, o: ForwardBuffers): AttentionOutput {
  return { out: call.readF32(o.out, p.B * p.Hq * p.T * p.dv), lse: call.readF32(o.lse, p.B * p.Hq * p.T) };
}

/** What a backward writes and reads besides the operands: out and lse (given, or from the forward run here), dout, the gradients. */
export interface BackwardBuffers {
  out: number;
  lse: number;
  dout: number;
  dq: number;
  dk: number;
  dvOut: number;
  scratch: number;
}

/**
 * A backward's buffers: the given (out, lse) or, when not given, the forward run here
 * (`runForward`) to produce them; zeroed dq, dk, dv and the scratch.
 */
export function backwardBuffers(
  call: WasmCall, p: SoftmaxAttentionProblem, g: GradientInputs, runForward: (o: ForwardBuffers) => void,
): BackwardBuffers {
  let out: number, lse: number;
  if (g.out && g.lse) {
    out = call.address(g.out);
    lse = call.address(g.lse);
  } else {
    const o = forwardBuffers(call, p);
    runForward(o);
    out = o.out;
    lse = o.lse;
  }
  return {
    out, lse, dout: call.address(g.dout),
    dq: call.allocZeroed(p.B * p.Hq * p.T * p.d * 4, 'attention dq'),
    dk: call.allocZeroed(p.B * p.Hkv * p.S * p.d * 4, 'attention dk'),
    dvOut: call.allocZeroed(p.B * p.Hkv * p.S * p.dv * 4, 'attention dv'),
    scratch: call.allocF32(
      call.exports.attentionWindowedBackwardScratchFloats({ T: p.T, S: p.S, d: p.d, dv: p.dv, G: p.band.globals.length, threads: call.threads }),
      'attention backward scratch',
    ),
  };
}

export function readBackward(call: WasmCall, p: SoftmaxAttentionProblem, b: BackwardBuffers, maxProbability: number): SoftmaxGradientArrays {
  return {
    dq: call.readF32(b.dq, p.B * p.Hq * p.T * p.d),
    dk: call.readF32(b.dk, p.B * p.Hkv * p.S * p.d),
    dv: call.readF32(b.dvOut, p.B * p.Hkv * p.S * p.dv),
    maxProbability,
  };
}

/** The band's arguments. */
interface Band {
  left: number;
  right: number;
  dilation: number;
  globals: number;
  G: number;
}

function band(call: WasmCall, p: SoftmaxAttentionProblem): Band {
  const G = p.band.globals.length;
  return {
    left: edge(p.band.left), right: edge(p.band.right), dilation: p.band.dilation,
    globals: G > 0 ? call.input(p.band.globals, 'attention globalTokens') : 0, G,
  };
}

/**
 * Work of a softmax-attention call for the team policy: pairs of a query and a key it
 * sees (at most the band's width, or S) times (d + dv) multiply-adds.
 */
export function softmaxWork(p: SoftmaxAttentionProblem): number {
  const keys = Math.min(p.S, (p.band.left + p.band.right + 1) + p.band.globals.length);
  return 2 * p.B * p.Hq * p.T * keys * (p.d + p.dv);
}

function runWindowed(call: WasmCall, p: SoftmaxAttentionProblem, x: SoftmaxOperands, w: Band, o: ForwardBuffers): void {
  call.run('attentionWindowed', {
    B: p.B, Hq: p.Hq, Hkv: p.Hkv, T: p.T, S: p.S, d: p.d, dv: p.dv, q: x.q, k: x.k, v: x.v, keyMask: x.keyMask,
    scale: p.scale, causal: p.causal, left: w.left, right: w.right, dilation: w.dilation, globals: w.globals, G: w.G,
    out: o.out, lse: o.lse, scratch: o.scratch,
  }, softmaxWork(p));
}

export function attentionWindowed(call: WasmCall, p: SoftmaxAttentionProblem): AttentionOutput {
  const o = forwardBuffers(call, p);
  runWindowed(call, p, softmaxOperands(call, p), band(call, p), o);
  return readForward(call, p, o);
}

export function attentionWindowedBackward(call: WasmCall, p: SoftmaxAttentionProblem, g: GradientInputs): SoftmaxGradientArrays {
  const x = softmaxOperands(call, p), w = band(call, p);
  const b = backwardBuffers(call, p, g, (o) => runWindowed(call, p, x, w, o));
  const maxProbability = call.run('attentionWindowedBackward', {
    B: p.B, Hq: p.Hq, Hkv: p.Hkv, T: p.T, S: p.S, d: p.d, dv: p.dv, q: x.q, k: x.k, v: x.v, keyMask: x.keyMask,
    scale: p.scale, causal: p.causal, left: w.left, right: w.right, dilation: w.dilation, globals: w.globals, G: w.G,
    out: b.out, lse: b.lse, dout: b.dout, dq: b.dq, dk: b.dk, dvOut: b.dvOut, scratch: b.scratch,
  }, 2 * softmaxWork(p));
  return readBackward(call, p, b, maxProbability);
}
