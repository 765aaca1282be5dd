// WASM wrappers of assembly/attention_linear.ts: run the kernels on the staged q, k, v
// (and FAVOR+ features; the key mask copied in), copy out (or dq, dk, dv; or a
// stream's state) out. Kernel arguments are written out in full (object spread into
// them cost ~1 us a call, which a stream step pays per token).

import { KERNEL_CONSTANTS } from '../../kernel_constants.generated.js';
import type {
  AttentionGradientArrays, FeatureMap, FeatureSpec, GradientInputs, LinearAttentionProblem, LinearStepProblem, LinearStreamState,
} from '../../ops/attention/kernels.js';
import type { WasmCall } from './call.js';

const FEATURE_CODES: Record<FeatureMap, number> = {
  elu1: KERNEL_CONSTANTS.FEATURE_ELU1, relu: KERNEL_CONSTANTS.FEATURE_RELU, favor: KERNEL_CONSTANTS.FEATURE_FAVOR,
};

const code = (f: FeatureSpec) => FEATURE_CODES[f.featureMap];

/** Work of a linear-attention call for the team policy: (T + S) feature rows and their products with KV'. */
function linearWork(p: LinearAttentionProblem): number {
  return 4 * p.B * p.Hq * (p.T + p.S) * p.features.F * (p.dv + 1 + p.d);
}

function keyMask(call: WasmCall, p: LinearAttentionProblem): number {
  return p.keyMask ? call.input(p.keyMask, 'attention keyMask') : 0;
}

export function attentionLinear(call: WasmCall, p: LinearAttentionProblem): Float32Array {
  const size = p.B * p.Hq * p.T * p.dv;
  const out = call.allocF32(size, 'attention out');
  const scratch = call.allocF32(
    call.exports.attentionLinearScratchFloats({ d: p.d, dv: p.dv, F: p.features.F, threads: call.threads }), 'attention linear scratch',
  );
  const f = p.features;
  call.run('attentionLinear', {
    B: p.B, Hq: p.Hq, Hkv: p.Hkv, T: p.T, S: p.S, d: p.d, dv: p.dv,
    q: call.address(p.q), k: call.address(p.k), v: call.address(p.v), keyMask: keyMask(call, p),
    featureMap: code(f), W: call.address(f.W), F: f.F, scale: f.scale, eps: f.eps, causal: p.causal, out, scratch,
  }, linearWork(p));
  return call.readF32(out, size);
}

export function attentionLinearBackward(call: WasmCall, p: LinearAttentionProblem, g: GradientInputs): AttentionGradientArrays {
  const sizes = { dq: p.B * p.Hq * p.T * p.d, dk: p.B * p.Hkv * p.S * p.d, dv: p.B * p.Hkv * p.S * p.dv };
  const dq = call.allocZeroed(sizes.dq * 4, 'attention dq');
  const dk = call.allocZeroed(sizes.dk * 4, 'attention dk');
  const dv = call.allocZeroed(sizes.dv * 4, 'attention dv');
  const scratch = call.allocF32(
    call.exports.attentionLinearBackwardScratchFloats({ T: p.T, group: p.Hq / p.Hkv, d: p.d, dv: p.dv, F: p.features.F, threads: call.threads }),
    'attention linear backward scratch',
  );
  const f = p.features;
  call.run('attentionLinearBackward', {
    B: p.B, Hq: p.Hq, Hkv: p.Hkv, T: p.T, S: p.S, d: p.d, dv: p.dv,
    q: call.address(p.q), k: call.address(p.k), v: call.address(p.v), keyMask: keyMask(call, p),
    featureMap: code(f), W: call.address(f.W), F: f.F, scale: f.scale, eps: f.eps, causal: p.causal,
    out: call.address(g.out), dout: call.address(g.dout), dq, dk, dvOut: dv, scratch,
  }, 3 * linearWork(p));
  return { dq: call.readF32(dq, sizes.dq), dk: call.readF32(dk, sizes.dk), dv: call.readF32(dv, sizes.dv) };
}

/** attentionLinearStep: the state is copied in and back out around the kernel. */
export function attentionLinearStep(call: WasmCall, p: LinearStepProblem, state: LinearStreamState): Float32Array {
  const kvState = call.input(state.kv, 'stream state');
  const unitsState = call.input(state.units, 'stream stabilisers');
  const out = call.allocF32(p.BH * p.dv, 'stream out');
  const scratch = call.allocF32(
    call.exports.attentionLinearScratchFloats({ d: p.d, dv: p.dv, F: p.features.F, threads: call.threads }), 'stream scratch',
  );
  const f = p.features;
  call.run('attentionLinearStep', {
    BH: p.BH, d: p.d, dv: p.dv, q: call.address(p.q), k: call.address(p.k), v: call.address(p.v),
    featureMap: code(f), W: call.address(f.W), F: f.F, scale: f.scale, eps: f.eps, kvState, unitsState, out, scratch,
  }, 4 * p.BH * p.features.F * (p.dv + 1 + p.d));
  state.kv.set(call.readF32(kvState, state.kv.length));
  state.units.set(call.readF32(unitsState, state.units.length));
  return call.readF32(out, p.BH * p.dv);
}
