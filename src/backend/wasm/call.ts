// Marshalling between JS and WASM memory, in one place. A WasmCall is one op call:
// it stages float inputs (copied into linear memory, scanned with SIMD on demand),
// copies other inputs in, reserves outputs and scratch, copies results out into
// fresh arrays (scanning them as it goes), and frees everything when the call ends,
// also when it throws. Views of memory.buffer are taken at the moment of each copy,
// because growing the memory detaches every earlier view.

import type { Call, Staged } from '../types.js';
import { KERNEL_PARAMETERS, type KernelExports, type KernelName } from './kernels.generated.js';
import { WasmHeap } from './heap.js';
import { WeftError } from '../../errors.js';
import type { ThreadPool } from './pool.js';
import { CONTROL_BYTES, SLOTS_BYTE, Word } from './pool_control.js';

type KernelArgs<K extends KernelName> = Parameters<KernelExports[K]>[0];
type KernelResult<K extends KernelName> = ReturnType<KernelExports[K]>;

/** The pool's index of each kernel (the order workers were given KERNEL_NAMES in). */
export const KERNEL_NAMES = Object.keys(KERNEL_PARAMETERS) as KernelName[];
const KERNEL_INDEX = new Map(KERNEL_NAMES.map((name, i) => [name, i]));

/**
 * Work (flops, or the like) a thread must get for a call to use it: below about 50 us of
 * work a thread costs more to wake than it saves. Results do not depend on it.
 */
export const MIN_WORK_PER_THREAD = 2e6;

/**
 * Scans and fills of at least this many floats run on a team: they are memory bound
 * (one thread scans ~10 GB/s from DRAM here), and a team reads faster than one thread.
 */
const TEAM_SCAN_FLOATS = 1 << 18;
/** Work of a float scanned or filled, in MIN_WORK_PER_THREAD's units: a thread gets >= 256K floats. */
const WORK_PER_SCANNED_FLOAT = MIN_WORK_PER_THREAD / TEAM_SCAN_FLOATS;

type Typed = Float32Array | Int32Array | Uint32Array | Uint8Array | Float64Array;

/** One instantiated kernel module, the heap over its memory, and its thread pool (if any). */
export class WasmInstance {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  readonly heap: WasmHeap;
  private pool?: ThreadPool;
  private teamSizeWord?: Int32Array;
  /** Threads a call may use (the caller's included). */
  threads = 1;
  /** See MIN_WORK_PER_THREAD (tests set 0 to run tiny calls on every thread). */
  minWorkPerThread = MIN_WORK_PER_THREAD;

  /** Where a thread pool's control block sits: the first bytes after static data, outside the heap. */
  readonly control: number;

  constructor(exports: KernelExports, memory: WebAssembly.Memory) {
    this.exports = exports;
    this.memory = memory;
    this.control = (exports.heapBase() + 63) & ~63;
    this.heap = new WasmHeap(memory, this.control + CONTROL_BYTES);
  }

  /** Run kernels on `pool` from now on (it shares the control block at `control`). */
  attachPool(pool: ThreadPool): void {
    this.pool = pool;
    this.threads = 1 + pool.workers;
    this.teamSizeWord = new Int32Array(this.memory.buffer, this.control + 4 * Word.TEAM_SIZE, 1);
  }

  /** The pool, for tests (stopping a worker) and dispose. */
  get threadPool(): ThreadPool | undefined {
    return this.pool;
  }

  /**
   * Run kernel `name`: on a team of at most `maxThreads` threads sized to `work` (flops or
   * the like; Infinity for as many as there are), or on this thread alone. The results
   * are the same either way (Hogwild skip-gram training aside).
   */
  run<K extends KernelName>(name: K, args: KernelArgs<K>, work = Infinity, maxThreads = Infinity): KernelResult<K> {
    const direct = () => (this.exports[name] as (a: KernelArgs<K>) => KernelResult<K>)(args);
    const pool = this.pool;
    if (!pool) return direct();
    const team = Math.max(1, Math.min(this.threads, maxThreads, pool.liveThreads, Math.floor(work / Math.max(1, this.minWorkPerThread))));
    if (team === 1) {
      Atomics.store(this.teamSizeWord!, 0, 1);
      return direct();
    }
    const ordered = KERNEL_PARAMETERS[name].map((param) => +(args as Record<string, number | boolean>)[param]);
    return pool.run(KERNEL_INDEX.get(name)!, ordered, team, direct, name);
  }

  /** max |x| of `n` floats at `address` (NaN if any is NaN, Infinity if any is infinite); a team scans large arrays. */
  maxAbs(address: number, n: number): number {
    if (!this.pool || n < TEAM_SCAN_FLOATS) return this.exports.maxAbsF32({ ptr: address, n });
    const slots = new Float32Array(this.memory.buffer, this.control + SLOTS_BYTE, this.threads);
    slots.fill(0);
    this.run('maxAbsF32Team', { ptr: address, n, out: slots.byteOffset }, n * WORK_PER_SCANNED_FLOAT);
    let max = 0;
    for (const m of slots) max = Math.max(max, m); // NaN wins, as in one scan
    return max;
  }

  /** Zero `bytes` bytes at `address` (a heap block: 64-aligned, whole lines); a team fills large blocks. */
  zeroFill(address: number, bytes: number): void {
    const lines = Math.ceil(bytes / 64) * 64;
    if (!this.pool || bytes < TEAM_SCAN_FLOATS * 4) new Uint8Array(this.memory.buffer, address, bytes).fill(0);
    else this.run('zeroFillTeam', { ptr: address, bytes: lines }, bytes * WORK_PER_SCANNED_FLOAT / 4);
  }

  private disposed = false;

  /** End the pool's threads; later calls throw UNSUPPORTED. */
  dispose(): void {
    this.disposed = true;
    this.pool?.dispose();
  }

  /** Run one op call; every buffer it holds is freed when it returns or throws. */
  call<T>(body: (call: WasmCall) => T): T {
    if (this.disposed) throw new WeftError('UNSUPPORTED', 'this weft instance was disposed (weft.dispose()); create another');
    const call = new WasmCall(this);
    try {
      return body(call);
    } finally {
      call.release();
    }
  }
}

/** A staged float input: the caller's array and its copy at `address`. */
class StagedCopy implements Staged {
  private max?: number;

  constructor(
    readonly data: Float32Array,
    readonly address: number,
    private readonly instance: WasmInstance,
  ) {}

  maxAbs(): number {
    // SIMD over the copy (0.065 ns a float in cache against ~1 ns for a JS loop), on a team when large
    this.max ??= this.instance.maxAbs(this.address, this.data.length);
    return this.max;
  }
}

export class WasmCall implements Call {
  readonly instance: WasmInstance;
  private readonly owned: number[] = [];
  private readonly finite = new Set<Float32Array>();

  constructor(instance: WasmInstance) {
    this.instance = instance;
  }

  /** The kernel exports (helpers: scratch sizes, scans); kernels run through run(). */
  get exports(): KernelExports {
    return this.instance.exports;
  }

  /** Threads a kernel may run on: per-thread scratch is allocated for this many. */
  get threads(): number {
    return this.instance.threads;
  }

  /** Run kernel `name` on the instance's threads (see WasmInstance.run). */
  run<K extends KernelName>(name: K, args: KernelArgs<K>, work?: number, maxThreads?: number): KernelResult<K> {
    return this.instance.run(name, args, work, maxThreads);
  }

  stage(data: Float32Array, name: string): Staged {
    return new StagedCopy(data, this.input(data, name), this.instance);
  }

  /** The address of an input staged by this call. */
  address(input: Staged): number;
  address(input: Staged | undefined): number | 0;
  address(input: Staged | undefined): number {
    if (input === undefined) return 0;
    if (!(input instanceof StagedCopy)) throw new Error('weft internal error: a kernel input was not staged by the WASM backend');
    return input.address;
  }

  scannedFinite(result: Float32Array): boolean {
    return this.finite.has(result);
  }

  /** Uninitialised space for `bytes` bytes (an output or scratch). */
  alloc(bytes: number, what?: string): number {
    const address = this.instance.heap.alloc(bytes, what);
    this.owned.push(address);
    return address;
  }

  /** Uninitialised space for `count` f32 (or i32/u32) elements. */
  allocF32(count: number, what?: string): number {
    return this.alloc(count * 4, what);
  }

  /** Space for a zero-filled buffer of `bytes` bytes. */
  allocZeroed(bytes: number, what?: string): number {
    const address = this.alloc(bytes, what);
    this.instance.zeroFill(address, bytes);
    return address;
  }

  /** Copy `data` into WASM memory; returns its address. */
  input(data: Typed, what?: string): number {
    const address = this.alloc(data.byteLength, what);
    new Uint8Array(this.instance.memory.buffer, address, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return address;
  }

  /**
   * A fresh Float32Array copy of `count` floats at `address`, recorded as finite when the
   * SIMD scan finds it so (2M floats: 0.065 ns a float here vs 0.41 for the JS scan it saves).
   */
  readF32(address: number, count: number): Float32Array {
    const copy = new Float32Array(this.instance.memory.buffer, address, count).slice();
    if (Number.isFinite(this.instance.maxAbs(address, count))) this.finite.add(copy);
    return copy;
  }

  /** A fresh Int32Array copy of `count` ints at `address`. */
  readI32(address: number, count: number): Int32Array {
    return new Int32Array(this.instance.memory.buffer, address, count).slice();
  }

  /** A live view (valid until the next allocation) for kernels that fill inputs in place. */
  viewU32(address: number, count: number): Uint32Array {
    return new Uint32Array(this.instance.memory.buffer, address, count);
  }

  /** Free every buffer of this call. */
  release(): void {
    for (const address of this.owned) this.instance.heap.free(address);
    this.owned.length = 0;
  }
}
