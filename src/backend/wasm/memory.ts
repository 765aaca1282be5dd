// The kernels' one memory. The modules import it (env.memory), declared shared, so
// that a pool's workers can instantiate the same module over the same memory; with
// one thread the shared memory costs nothing measurable (see the README, "Threads").
// Where the runtime cannot create a shared memory, the module's import is rewritten
// to an ordinary one before compiling (the same code runs: its atomics work on an
// ordinary memory, and a team of one never waits).

import { WeftError } from '../../errors.js';

/** wasm32 linear memory ends at 4 GiB: 65536 pages of 64 KiB. */
export const MAX_PAGES = 65536;
/** The modules' declared initial size, in pages (asconfig.json initialMemory). */
export const INITIAL_PAGES = 16;
export const PAGE_BYTES = 65536;

/**
 * A memory for the kernels of up to `maximumPages`: shared when asked for and the runtime
 * allows it, else ordinary (with the reason).
 */
export function createKernelMemory(maximumPages: number, shared = true): { memory: WebAssembly.Memory; shared: boolean; reason?: string } {
  if (!shared) {
    try {
      return { memory: new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: maximumPages }), shared: false };
    } catch (err) {
      throw new WeftError('MEMORY', `createWeft: cannot reserve a WebAssembly memory of up to ${maximumPages} pages: ${(err as Error).message}`);
    }
  }
  try {
    return { memory: new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: maximumPages, shared: true }), shared: true };
  } catch (err) {
    try {
      const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: maximumPages });
      return { memory, shared: false, reason: `this runtime cannot create a shared WebAssembly memory (${(err as Error).message})` };
    } catch (err2) {
      throw new WeftError('MEMORY', `createWeft: cannot reserve a WebAssembly memory of up to ${maximumPages} pages: ${(err2 as Error).message}`);
    }
  }
}

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0, shift = 0, byte: number;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

/**
 * The module bytes with its memory import made ordinary (limits flag 0x03 "shared, with
 * maximum" -> 0x01 "with maximum"); one byte changes, everything else is kept.
 */
export function withUnsharedMemoryImport(module: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const bytes = module.slice();
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, payload] = readLeb(bytes, at + 1);
    if (id === 2) {
      let [count, p] = readLeb(bytes, payload);
      for (; count > 0; count--) {
        for (let name = 0; name < 2; name++) {
          const [length, next] = readLeb(bytes, p);
          p = next + length;
        }
        const kind = bytes[p++];
        if (kind === 0x02) {
          if (bytes[p] === 0x03) bytes[p] = 0x01;
          return bytes;
        }
        // skip the other import kinds: function (type index), table (type + limits), global (type + mutability)
        if (kind === 0x00) p = readLeb(bytes, p)[1];
        else if (kind === 0x01) p = skipLimits(bytes, p + 1);
        else if (kind === 0x03) p += 2;
      }
    }
    at = payload + size;
  }
  return bytes;
}

function skipLimits(bytes: Uint8Array, at: number): number {
  const flags = bytes[at];
  let p = readLeb(bytes, at + 1)[1];
  if (flags & 1) p = readLeb(bytes, p)[1];
  return p;
}
