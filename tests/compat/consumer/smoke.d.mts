// Types of smoke.mjs, written against the package's declarations: the TypeScript consumer
// (typed.cts) compiles against them, so the names and types the smoke run uses are checked
// under strict TypeScript too.
import type * as weft from 'weft-wasm';

/** One op's WASM result against the JS backend's. */
export interface Difference {
  /** Elements compared. */
  length: number;
  maxAbsDiff: number;
  /** Largest |element| of the JS result. */
  maxAbsRef: number;
  /** The largest maxAbsDiff accepted: atol + rtol·maxAbsRef. */
  tolerance: number;
}

export interface SmokeReport {
  /** 'node 22.23.3', 'bun 1.4.5', 'deno 2.9.6' or a browser's user agent. */
  runtime: string;
  backend: 'wasm' | 'js';
  features: weft.Weft['features'];
  ops: Record<'matmul' | 'attention' | 'rnn2d' | 'conv2d' | 'softmax', Difference> & {
    skipGram: Difference & { vocab: number; pairs: [number, number] };
  };
  error?: { isWeftError: boolean; name: string; code: weft.ErrorCode; message: string };
  /** weft.memory().liveBytes after the calls, before dispose. */
  liveBytes: number;
}

export function smoke(library: { createWeft: typeof weft.createWeft; WeftError: typeof weft.WeftError }): Promise<SmokeReport>;
