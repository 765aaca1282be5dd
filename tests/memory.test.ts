import { describe, expect, it } from 'vitest';
import { createWeft } from '../src/index.js';
import { WasmHeap } from '../src/backend/wasm/heap.js';
import { WasmInstance } from '../src/backend/wasm/call.js';
import type { KernelExports } from '../src/backend/wasm/kernels.generated.js';
import { RELAXED_PROJECT, expectWeftError } from './helpers.js';

describe('WasmHeap', () => {
  it('reuses freed gaps first-fit and keeps blocks 64-byte aligned', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const heap = new WasmHeap(memory, 100);
    const a = heap.alloc(10);
    const b = heap.alloc(100);
    const c = heap.alloc(64);
    expect([a % 64, b % 64, c % 64]).toEqual([0, 0, 0]);
    expect(a).toBe(128);
    expect(b).toBe(a + 64);
    expect(c).toBe(b + 128);
    heap.free(b);
    expect(heap.alloc(70)).toBe(b); // fits the 128-byte gap
    expect(heap.alloc(64)).toBe(c + 64); // the gap is full now
    expect(heap.liveBytes).toBe(64 + 128 + 64 + 64);
  });

  it('grows memory when no gap fits, and reports MEMORY when it cannot grow', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 3 });
    const heap = new WasmHeap(memory, 0);
    const big = heap.alloc(100_000);
    expect(memory.buffer.byteLength).toBe(2 * 65536);
    expectWeftError(() => heap.alloc(200_000, 'a test buffer'), 'MEMORY', /test buffer/);
    expect(heap.liveBytes).toBe(Math.ceil(100_000 / 64) * 64);
    heap.free(big);
    expect(heap.liveBytes).toBe(0);
    expectWeftError(() => heap.alloc(2 ** 33), 'MEMORY', /4 GiB/);
  });

  // a stand-in module: the heap starts at 0 and the scan finds everything finite
  const instanceOver = (memory: WebAssembly.Memory) =>
    new WasmInstance({ heapBase: () => 0, maxAbsF32: () => 0 } as unknown as KernelExports, memory);

  it('frees every buffer of a call when the kernel throws', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = instanceOver(memory);
    expect(() =>
      instance.call((call) => {
        call.input(new Float32Array([1, 2, 3]));
        call.stage(new Float32Array([4, 5]), 'x');
        call.allocF32(1000);
        throw new Error('kernel failed');
      }),
    ).toThrow('kernel failed');
    expect(instance.heap.liveBytes).toBe(0);
  });

  it('copies survive memory growth between allocations', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = instanceOver(memory);
    const out = instance.call((call) => {
      const first = call.input(new Float32Array([1.5, 2.5]));
      call.alloc(5 * 65536); // forces growth: views taken before it are detached
      return call.readF32(first, 2);
    });
    expect(Array.from(out)).toEqual([1.5, 2.5]);
  });
});

describe.skipIf(RELAXED_PROJECT)('WASM backend memory across calls', () => {
  it('10,000 matmul calls do not grow memory, and nothing stays live', async () => {
    const weft = await createWeft({ simd: 'simd' });
    const a = weft.randn([9, 13], 1);
    const b = weft.randn([13, 5], 2);
    weft.matmul(a, b);
    const after1 = weft.memory();
    for (let i = 0; i < 10_000; i++) weft.matmul(a, b);
    const after10k = weft.memory();
    expect(after10k.wasmBytes).toBe(after1.wasmBytes);
    expect(after10k.liveBytes).toBe(0);
  });

  it('a failed call leaks nothing and the instance stays usable', async () => {
    const weft = await createWeft({ simd: 'simd' });
    const before = weft.memory();
    // The operands and packing buffers are placed first, then the 2^15 x 2^15 output, which
    // is exactly the 4 GiB wasm32 limit and cannot fit next to them: the call fails with
    // buffers already live, and they must all be released.
    expectWeftError(() => weft.matmul(weft.randn([32768, 1], 1), weft.randn([1, 32768], 2)), 'MEMORY', /matmul output.*4 GiB/);
    expect(weft.memory().liveBytes).toBe(0);
    expect(weft.memory().wasmBytes).toBe(before.wasmBytes);
    const c = weft.matmul(weft.tensor(new Float32Array([1, 2]), [1, 2]), weft.tensor(new Float32Array([3, 4]), [2, 1]));
    expect(Array.from(c.data)).toEqual([11]);
  });
});
