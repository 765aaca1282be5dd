// The peer a tfjs user would reach for: @tensorflow/tfjs-backend-wasm (XNNPACK),
// forced single-threaded so it runs on one core like weft. It is a dev
// dependency: when it is not installed the benchmarks skip its rows.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Tf = typeof import('@tensorflow/tfjs-core');

let loading: Promise<Tf | null> | undefined;

/** tfjs-core with the wasm backend ready, or null (with the reason printed once) when unavailable. */
export function loadTfjsWasm(): Promise<Tf | null> {
  loading ??= (async () => {
    try {
      const tf = await import('@tensorflow/tfjs-core');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setWasmPaths(dist);
      await tf.setBackend('wasm');
      await tf.ready();
      return tf;
    } catch (err) {
      console.log(`(tfjs-wasm peer skipped: ${(err as Error).message.split('\n')[0]})`);
      return null;
    }
  })();
  return loading;
}
