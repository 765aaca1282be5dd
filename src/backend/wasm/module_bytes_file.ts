// The bytes of the two kernel builds for the CommonJS bundle (dist/index.cjs, Node's
// require): read from the .wasm files the package ships beside it (dist/weft-simd.wasm,
// dist/weft-relaxed.wasm), so the package carries no third embedded copy. scripts/build.mjs
// puts this file in place of module_bytes.ts for that bundle only; bundlers get the ESM
// bundle (the exports map's "module" condition), which embeds the builds.

import { WeftError } from '../../errors.js';
import { nodeBuiltin } from '../../node_builtin.js';

/** The bytes of one build, read from `weft-<variant>.wasm` beside the bundle. */
export async function kernelModuleBytes(variant: 'simd' | 'relaxed'): Promise<Uint8Array<ArrayBuffer>> {
  const fs = await nodeBuiltin<typeof import('node:fs')>('node:fs');
  const path = await nodeBuiltin<typeof import('node:path')>('node:path');
  const file = path.join(__dirname, `weft-${variant}.wasm`);
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (err) {
    throw new WeftError('UNSUPPORTED', `createWeft: cannot read the ${variant} WASM build at ${file} (${(err as Error).message}); reinstall the package`);
  }
}
