// The kernel entry points of assembly/index.ts as seen from JS. Pointers are byte
// addresses in `memory`; sizes and strides are element counts.

export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  /** 1 in the relaxed-SIMD build, 0 in the plain one. */
  isRelaxed(): number;

  matmul(
    batch: number, M: number, N: number, K: number,
    a: number, aBatch: number, aRow: number, aCol: number,
    b: number, bBatch: number, bRow: number, bCol: number,
    bias: number, c: number, packB: number, packA: number,
  ): void;
  gemmPackedAFloats(): number;
  gemmPackedBFloats(K: number, N: number): number;

  peakProbeChains(iterations: number, seed: number): number;
  peakProbeLoadSplat(iterations: number, operands: number): number;

  rngFillU32(state: number, out: number, n: number): void;

  attentionWindowedForward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, scale: number, causal: number,
    left: number, right: number, dilation: number, globals: number, G: number,
    out: number, lse: number, scratch: number,
  ): void;
  attentionFullForward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, scale: number, causal: number,
    out: number, lse: number, scratch: number,
  ): void;
  attentionFullBackward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, scale: number, causal: number,
    out: number, lse: number, dout: number, dq: number, dk: number, dv_: number, scratch: number,
  ): void;
  attentionWindowedBackward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, scale: number, causal: number,
    left: number, right: number, dilation: number, globals: number, G: number,
    out: number, lse: number, dout: number, dq: number, dk: number, dv_: number, scratch: number,
  ): void;
  attentionBackwardScratchFloats(T: number, S: number, d: number, dv: number, G: number): number;
  attentionLinearForward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, featureMap: number, W: number, F: number,
    scale: number, eps: number, causal: number, out: number, scratch: number,
  ): void;
  attentionLinearScratchFloats(d: number, dv: number, F: number): number;
  attentionLinearBackward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, featureMap: number, W: number, F: number,
    scale: number, eps: number, causal: number, out: number, dout: number, dq: number, dk: number, dv_: number,
    scratch: number,
  ): void;
  attentionLinearBackwardScratchFloats(T: number, group: number, d: number, dv: number, F: number): number;
  attentionLinearStep(
    BH: number, d: number, dv: number, q: number, k: number, v: number, featureMap: number, W: number, F: number,
    scale: number, eps: number, kvState: number, keyMaxState: number, out: number, scratch: number,
  ): void;
  /** max |x| of n floats (NaN / Infinity when one is not finite). */
  maxAbsF32(address: number, n: number): number;
  attentionForwardScratchFloats(S: number, d: number, dv: number, G: number): number;
}
