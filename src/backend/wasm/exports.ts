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
}
