// The bytes of the two kernel builds, as the ESM and IIFE bundles carry them: embedded as
// base64 (embedded.generated.ts, written by scripts/build.mjs), so one import works in
// Node, browsers and bundlers with no file to serve. Nothing is decoded until
// createWeft() asks for a build.
//
// The CommonJS bundle (Node's require) swaps this file for module_bytes_file.ts, which
// reads the .wasm files the package ships beside it.

import { RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from './embedded.generated.js';

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The bytes of one build (a fresh copy: the caller may patch it). */
export async function kernelModuleBytes(variant: 'simd' | 'relaxed'): Promise<Uint8Array<ArrayBuffer>> {
  return decodeBase64(variant === 'relaxed' ? RELAXED_WASM_BASE64 : SIMD_WASM_BASE64);
}
