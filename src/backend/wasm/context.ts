// What every WASM op wrapper needs: the kernel exports, the heap, and a way to
// run one call with its buffers freed afterwards.

import { CallFrame, withFrame } from './frame.js';
import { WasmHeap } from './heap.js';
import type { KernelExports } from './exports.js';

export class WasmContext {
  readonly kernels: KernelExports;
  readonly heap: WasmHeap;

  constructor(kernels: KernelExports) {
    this.kernels = kernels;
    this.heap = new WasmHeap(kernels.memory, kernels.heapBase());
  }

  /** Run one kernel call; every buffer it allocates is freed when it returns or throws. */
  call<T>(body: (frame: CallFrame) => T): T {
    return withFrame(this.heap, this.kernels.memory, body, this.kernels.maxAbsF32);
  }
}
