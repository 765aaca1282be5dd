// Exact (full) softmax attention: FlashAttention-style tiles with an online softmax,
// never materialising the T x S scores (attention_tile.ts).
//
// Dimensions and layouts as in attention_windowed.ts: q [B, Hq, T, d], k [B, Hkv, S, d],
// v [B, Hkv, S, dv], out [B, Hq, T, dv], lse [B, Hq, T], keyMask u8 [B, S] or 0.
// Causal: query t sees keys s <= t + (S - T). Outputs are overwritten.
//
// Full attention is the band that covers every key (left = right = unbounded, no
// dilation, no globals), so it runs the windowed driver: one code path, and a
// window reaching every key ([Infinity, Infinity]) reproduces these bits exactly.
// Key blocks past a tile's causal limit are never computed (the band ends there).

import { UNBOUNDED } from "./attention_tile";
import { attentionWindowed, attentionWindowedBackward } from "./attention_windowed";

/** Full attention forward; scratch: attentionWindowedScratchFloats(S, d, dv, 0) floats. */
export function attentionFull(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, scale: f32, causal: bool,
  out: usize, lse: usize, scratch: usize,
): void {
  attentionWindowed(B, Hq, Hkv, T, S, d, dv, q, k, v, keyMask, scale, causal, UNBOUNDED, UNBOUNDED, 1, 0, 0, out, lse, scratch);
}

/**
 * Full attention backward: dq [B, Hq, T, d], dk [B, Hkv, S, d], dv [B, Hkv, S, dv]
 * (zero on entry), from the forward's out and lse and dout [B, Hq, T, dv];
 * scratch: attentionWindowedBackwardScratchFloats(T, S, d, dv, 0) floats. Returns the largest
 * probability exp(s - lse) met (see attentionWindowedBackward).
 */
export function attentionFullBackward(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, scale: f32, causal: bool,
  out: usize, lse: usize, dout: usize, dq: usize, dk: usize, dvOut: usize, scratch: usize,
): f32 {
  return attentionWindowedBackward(
    B, Hq, Hkv, T, S, d, dv, q, k, v, keyMask, scale, causal, UNBOUNDED, UNBOUNDED, 1, 0, 0,
    out, lse, dout, dq, dk, dvOut, scratch,
  );
}
