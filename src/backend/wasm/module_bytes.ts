// The bytes of the two kernel builds, as the ESM and IIFE bundles carry them: embedded
// (embedded.generated.ts, written by scripts/build.mjs), so one import works in Node,
// browsers and bundlers with no file to serve. They are gzipped before the base64: a
// build then weighs 33 kB in a gzipped bundle instead of 43 kB (base64 hides the
// module's redundancy from the bundle's own compression), which keeps the packed
// package under 400 kB with two bundles embedding both builds. Nothing is decoded until
// createWeft() asks for a build. Node's require loads the ESM bundle too (dist/index.cjs).

import { WeftError } from '../../errors.js';
import { isNode, nodeBuiltin } from '../../node_builtin.js';
import { RELAXED_WASM_GZIP_BASE64, SIMD_WASM_GZIP_BASE64 } from './embedded.generated.js';

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The bytes of a gzip stream, inflated with DecompressionStream (browsers, Node >= 18, Deno, Bun) or node:zlib. */
async function gunzip(gzipped: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  if (typeof DecompressionStream === 'function') {
    const stream = new DecompressionStream('gzip');
    const writer = stream.writable.getWriter();
    void writer.write(gzipped);
    void writer.close();
    const chunks: Uint8Array[] = [];
    const reader = stream.readable.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(read.value);
    const bytes = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  }
  if (isNode()) {
    const zlib = await nodeBuiltin<typeof import('node:zlib')>('node:zlib');
    return new Uint8Array(zlib.gunzipSync(gzipped));
  }
  throw new WeftError(
    'UNSUPPORTED',
    'createWeft: this runtime has no DecompressionStream to unpack the embedded WASM build; pass module ' +
      '(a WebAssembly.Module compiled from the package\'s dist/weft-simd.wasm) or use backend: "js"',
  );
}

/** The bytes of one build (a fresh copy: the caller may patch it). */
export async function kernelModuleBytes(variant: 'simd' | 'relaxed'): Promise<Uint8Array<ArrayBuffer>> {
  return gunzip(decodeBase64(variant === 'relaxed' ? RELAXED_WASM_GZIP_BASE64 : SIMD_WASM_GZIP_BASE64));
}
