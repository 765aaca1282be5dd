// The memory arena for the WASM backend. The kernels are built with
// AssemblyScript's stub runtime, so nothing inside WASM allocates: every buffer a
// kernel touches is placed here, by JS, and freed here.
//
// A first-fit allocator over [heapBase, memory end): blocks are kept sorted by
// address, freed blocks leave gaps that later allocations reuse, and memory grows
// (in 64 KiB pages) only when no gap fits. Live blocks are few (a call holds a
// handful, a trainer a few more), so a linear scan is cheaper than a fancier tree.

import { WeftError } from '../../errors.js';

const PAGE_BYTES = 65536;
/** wasm32 linear memory ends at 4 GiB. */
const MAX_BYTES = 2 ** 32;
/** Every block starts on a cache line (v128 loads need 16, cache lines 64). */
const ALIGN = 64;

interface Block {
  start: number;
  end: number;
}

export class WasmHeap {
  private readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private readonly blocks: Block[] = [];
  private live = 0;

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.base = alignUp(heapBase);
  }

  /** Bytes held by live blocks. */
  get liveBytes(): number {
    return this.live;
  }

  /** Current size of the WASM memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Reserve `bytes` (rounded up to 64) and return the block's address. Throws MEMORY when it cannot. */
  alloc(bytes: number, what = 'buffer'): number {
    if (!Number.isFinite(bytes) || bytes < 0) {
      throw new WeftError('MEMORY', `cannot allocate ${bytes} bytes for ${what}`);
    }
    const size = Math.max(ALIGN, alignUp(bytes));
    let start = this.base;
    let index = 0;
    for (; index < this.blocks.length; index++) {
      const block = this.blocks[index];
      if (block.start - start >= size) break;
      start = block.end;
    }
    const end = start + size;
    if (end > MAX_BYTES) {
      throw new WeftError(
        'MEMORY',
        `cannot allocate ${bytes} bytes for ${what}: WASM memory would need ${end} bytes, over the 4 GiB wasm32 limit`,
      );
    }
    this.ensureCapacity(end, what);
    this.blocks.splice(index, 0, { start, end });
    this.live += size;
    return start;
  }

  /** Release a block returned by alloc. */
  free(address: number): void {
    const index = this.blocks.findIndex((block) => block.start === address);
    if (index < 0) throw new Error(`weft internal error: free of unknown address ${address}`);
    const [block] = this.blocks.splice(index, 1);
    this.live -= block.end - block.start;
  }

  private ensureCapacity(end: number, what: string): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE_BYTES);
    try {
      this.memory.grow(pages);
    } catch (err) {
      throw new WeftError(
        'MEMORY',
        `cannot allocate ${end - have} more bytes of WASM memory for ${what} (have ${have}): ${(err as Error).message}`,
      );
    }
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
