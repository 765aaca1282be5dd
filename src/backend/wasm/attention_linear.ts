// WASM wrappers of assembly/attention_linear.ts: copy q, k, v (the key mask, the
// FAVOR+ features) in, run the kernel, copy out (or dq, dk, dv; or a stream's state).

import type { AttentionGradientArrays } from '../../ops/attention.js';
import type { CheckedGradients } from '../../ops/attention_checks.js';
import type { FeatureMap, FeatureSpec, LinearAttentionProblem, LinearStepProblem, LinearStreamState } from '../../ops/attention_linear.js';
import type { CallFrame } from './frame.js';
import type { WasmContext } from './context.js';
import { ScannedInputs } from './attention.js';

/** assembly/attention_linear.ts FEATURE_* codes. */
const FEATURE_CODES: Record<FeatureMap, number> = { elu1: 0, relu: 1, favor: 2 };

/** featureMap code, W address (0 unless FAVOR+), F, scale, eps: the kernels' feature arguments. */
function featureArgs(frame: CallFrame, f: FeatureSpec): [number, number, number, number, number] {
  const W = f.W ? frame.input(f.W, 'attention FAVOR+ features') : 0;
  return [FEATURE_CODES[f.featureMap], W, f.F, f.scale, f.eps];
}

function copyOperands(ctx: WasmContext, frame: CallFrame, p: LinearAttentionProblem) {
  const scanned = new ScannedInputs(ctx, frame);
  const q = scanned.input(p.q, 'attention q');
  const k = scanned.input(p.k, 'attention k');
  const v = scanned.input(p.v, 'attention v');
  p.checkValues(scanned.maxAbs);
  const keyMask = p.keyMask ? frame.input(p.keyMask, 'attention keyMask') : 0;
  return { scanned, args: [q, k, v, keyMask, ...featureArgs(frame, p.features)] as const };
}

/** attention_linear_fwd */
export function attentionLinearWasm(ctx: WasmContext, p: LinearAttentionProblem): Float32Array {
  const { kernels } = ctx;
  return ctx.call((frame) => {
    const { args } = copyOperands(ctx, frame, p);
    const size = p.B * p.Hq * p.T * p.dv;
    const out = frame.allocF32(size, 'attention out');
    const scratch = frame.allocF32(kernels.attentionLinearScratchFloats(p.d, p.dv, p.features.F), 'attention linear scratch');
    kernels.attentionLinearForward(p.B, p.Hq, p.Hkv, p.T, p.S, p.d, p.dv, ...args, p.causal ? 1 : 0, out, scratch);
    return frame.readF32(out, size);
  });
}

/** attention_linear_bwd */
export function attentionLinearBackwardWasm(ctx: WasmContext, p: LinearAttentionProblem, g: CheckedGradients): AttentionGradientArrays {
  const { kernels } = ctx;
  return ctx.call((frame) => {
    const { scanned, args } = copyOperands(ctx, frame, p);
    const dout = scanned.input(g.dout, 'attention dout');
    const out = g.out ? scanned.input(g.out, 'attention out') : 0;
    g.checkValues(scanned.maxAbs);
    const sizes = { dq: p.B * p.Hq * p.T * p.d, dk: p.B * p.Hkv * p.S * p.d, dv: p.B * p.Hkv * p.S * p.dv };
    const dq = frame.allocZeroed(sizes.dq * 4, 'attention dq');
    const dk = frame.allocZeroed(sizes.dk * 4, 'attention dk');
    const dv = frame.allocZeroed(sizes.dv * 4, 'attention dv');
    const group = p.Hq / p.Hkv;
    const scratch = frame.allocF32(
      kernels.attentionLinearBackwardScratchFloats(p.T, group, p.d, p.dv, p.features.F),
      'attention linear backward scratch',
    );
    kernels.attentionLinearBackward(
      p.B, p.Hq, p.Hkv, p.T, p.S, p.d, p.dv, ...args, p.causal ? 1 : 0, out, dout, dq, dk, dv, scratch,
    );
    return { dq: frame.readF32(dq, sizes.dq), dk: frame.readF32(dk, sizes.dk), dv: frame.readF32(dv, sizes.dv) };
  });
}

/** attention_linear_step: the state is copied in and back out around the kernel. */
export function attentionLinearStepWasm(ctx: WasmContext, p: LinearStepProblem, state: LinearStreamState): Float32Array {
  const { kernels } = ctx;
  return ctx.call((frame) => {
    const scanned = new ScannedInputs(ctx, frame);
    const q = scanned.input(p.q, 'stream q');
    const k = scanned.input(p.k, 'stream k');
    const v = scanned.input(p.v, 'stream v');
    p.checkValues(scanned.maxAbs);
    const kv = frame.input(state.kv, 'stream state');
    const units = frame.input(state.units, 'stream stabilisers');
    const out = frame.allocF32(p.BH * p.dv, 'stream out');
    const scratch = frame.allocF32(kernels.attentionLinearScratchFloats(p.d, p.dv, p.features.F), 'stream scratch');
    kernels.attentionLinearStep(p.BH, p.d, p.dv, q, k, v, ...featureArgs(frame, p.features), kv, units, out, scratch);
    state.kv.set(frame.readF32(kv, state.kv.length));
    state.units.set(frame.readF32(units, state.units.length));
    return frame.readF32(out, p.BH * p.dv);
  });
}
