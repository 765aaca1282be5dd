// WASM wrappers of assembly/attention_full.ts and attention_windowed.ts: copy q, k, v
// (and the key mask, the global positions) in, run the kernel, copy out and lse (or
// dq, dk, dv) out.

import type { AttentionOutput, SoftmaxAttentionProblem, SoftmaxGradientArrays } from '../../ops/attention.js';
import type { CheckedGradients, MaxAbs } from '../../ops/attention_checks.js';
import { maxAbsJs } from '../../tensor.js';
import type { CallFrame } from './frame.js';
import type { WasmContext } from './context.js';

/** The kernels' stand-in for an unbounded window edge (assembly/attention_tile.ts UNBOUNDED). */
const UNBOUNDED = 2 ** 30;

function edge(w: number): number {
  return Math.min(w, UNBOUNDED);
}

interface SoftmaxInputs {
  q: number;
  k: number;
  v: number;
  keyMask: number;
  globals: number;
}

/**
 * Inputs copied into a frame and remembered, so value checks can scan the copies
 * with the SIMD kernel (maxAbs); arrays not copied are scanned in JS.
 */
export class ScannedInputs {
  private readonly copies = new Map<Float32Array, number>();
  private readonly ctx: WasmContext;
  private readonly frame: CallFrame;

  constructor(ctx: WasmContext, frame: CallFrame) {
    this.ctx = ctx;
    this.frame = frame;
  }

  /** Copy `data` in; returns its address. */
  input(data: Float32Array, what: string): number {
    const address = this.frame.input(data, what);
    this.copies.set(data, address);
    return address;
  }

  readonly maxAbs: MaxAbs = (data) => {
    const address = this.copies.get(data);
    return address === undefined ? maxAbsJs(data) : this.ctx.kernels.maxAbsF32(address, data.length);
  };
}

/** Copy the operands in, then run the call's value checks on the copies. */
function copyInputs(ctx: WasmContext, frame: CallFrame, p: SoftmaxAttentionProblem): SoftmaxInputs {
  const scanned = new ScannedInputs(ctx, frame);
  const inputs = {
    q: scanned.input(p.q, 'attention q'),
    k: scanned.input(p.k, 'attention k'),
    v: scanned.input(p.v, 'attention v'),
    keyMask: p.keyMask ? frame.input(p.keyMask, 'attention keyMask') : 0,
    globals: p.band.globals.length > 0 ? frame.input(p.band.globals, 'attention globalTokens') : 0,
  };
  p.checkValues(scanned.maxAbs);
  return inputs;
}

/** Run the forward kernel into out/lse buffers of the frame; returns their addresses. */
function runForward(
  ctx: WasmContext, frame: CallFrame, p: SoftmaxAttentionProblem, inputs: SoftmaxInputs, windowed: boolean,
): { out: number; lse: number } {
  const { kernels } = ctx;
  const G = p.band.globals.length;
  const out = frame.allocF32(p.B * p.Hq * p.T * p.dv, 'attention out');
  const lse = frame.allocF32(p.B * p.Hq * p.T, 'attention lse');
  const scratch = frame.allocF32(kernels.attentionForwardScratchFloats(p.S, p.d, p.dv, G), 'attention scratch');
  const shape = [p.B, p.Hq, p.Hkv, p.T, p.S, p.d, p.dv] as const;
  const operands = [inputs.q, inputs.k, inputs.v, inputs.keyMask, p.scale, p.causal ? 1 : 0] as const;
  if (windowed) {
    const band = [edge(p.band.left), edge(p.band.right), p.band.dilation, inputs.globals, G] as const;
    kernels.attentionWindowedForward(...shape, ...operands, ...band, out, lse, scratch);
  } else {
    kernels.attentionFullForward(...shape, ...operands, out, lse, scratch);
  }
  return { out, lse };
}

/** attention_full_fwd (windowed = false) and attention_windowed_fwd. */
export function attentionSoftmaxWasm(ctx: WasmContext, p: SoftmaxAttentionProblem, windowed: boolean): AttentionOutput {
  return ctx.call((frame) => {
    const { out, lse } = runForward(ctx, frame, p, copyInputs(ctx, frame, p), windowed);
    return { out: frame.readF32(out, p.B * p.Hq * p.T * p.dv), lse: frame.readF32(lse, p.B * p.Hq * p.T) };
  });
}

/** attention_full_bwd (windowed = false) and attention_windowed_bwd. */
export function attentionSoftmaxBackwardWasm(
  ctx: WasmContext, p: SoftmaxAttentionProblem, g: CheckedGradients, windowed: boolean,
): SoftmaxGradientArrays {
  const { kernels } = ctx;
  return ctx.call((frame) => {
    const inputs = copyInputs(ctx, frame, p);
    const scanned = new ScannedInputs(ctx, frame);
    const dout = scanned.input(g.dout, 'attention dout');
    const given = g.out && g.lse
      ? { out: scanned.input(g.out, 'attention out'), lse: scanned.input(g.lse, 'attention lse') }
      : undefined;
    g.checkValues(scanned.maxAbs);
    const { out, lse } = given ?? runForward(ctx, frame, p, inputs, windowed);
    const G = p.band.globals.length;
    const sizes = { dq: p.B * p.Hq * p.T * p.d, dk: p.B * p.Hkv * p.S * p.d, dv: p.B * p.Hkv * p.S * p.dv };
    const dq = frame.allocZeroed(sizes.dq * 4, 'attention dq');
    const dk = frame.allocZeroed(sizes.dk * 4, 'attention dk');
    const dv = frame.allocZeroed(sizes.dv * 4, 'attention dv');
    const scratch = frame.allocF32(kernels.attentionBackwardScratchFloats(p.T, p.S, p.d, p.dv, G), 'attention backward scratch');
    const shape = [p.B, p.Hq, p.Hkv, p.T, p.S, p.d, p.dv] as const;
    const operands = [inputs.q, inputs.k, inputs.v, inputs.keyMask, p.scale, p.causal ? 1 : 0] as const;
    const gradients = [out, lse, dout, dq, dk, dv, scratch] as const;
    let maxProbability: number;
    if (windowed) {
      const band = [edge(p.band.left), edge(p.band.right), p.band.dilation, inputs.globals, G] as const;
      maxProbability = kernels.attentionWindowedBackward(...shape, ...operands, ...band, ...gradients);
    } else {
      maxProbability = kernels.attentionFullBackward(...shape, ...operands, ...gradients);
    }
    return { dq: frame.readF32(dq, sizes.dq), dk: frame.readF32(dk, sizes.dk), dv: frame.readF32(dv, sizes.dv), maxProbability };
  });
}
