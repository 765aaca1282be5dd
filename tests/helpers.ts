// Shared test plumbing: which backends a test file runs against, closeness
// checks that print where they fail, and plain f64 references.

import { afterAll, beforeAll, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createWeft, type Weft, type Tensor } from '../src/index.js';
import { supportsRelaxedSimd } from '../src/backend/wasm/instantiate.js';

export interface BackendUnderTest {
  label: 'js' | 'wasm-simd' | 'wasm-relaxed';
  create(): Promise<Weft>;
}

// One thread: these test the kernels' results; tests/threads.test.ts checks that every
// thread count gives the same bits.
const ALL: Record<BackendUnderTest['label'], () => Promise<Weft>> = {
  js: () => createWeft({ backend: 'js' }),
  'wasm-simd': () => createWeft({ simd: 'simd', threads: 1 }),
  'wasm-relaxed': () => createWeft({ simd: 'relaxed', threads: 1 }),
};

/**
 * The backends this vitest project covers. The 'relaxed' project (run with
 * --experimental-wasm-relaxed-simd) sets WEFT_TEST_VARIANTS=relaxed and must be
 * able to compile the relaxed build; the default project covers js and
 * wasm-simd, plus wasm-relaxed where the runtime has it without a flag.
 */
export function backendsUnderTest(): BackendUnderTest[] {
  const only = process.env.WEFT_TEST_VARIANTS;
  let labels: BackendUnderTest['label'][];
  if (only === 'relaxed') {
    if (!supportsRelaxedSimd()) throw new Error('relaxed test project: this runtime cannot compile relaxed SIMD');
    labels = ['wasm-relaxed'];
  } else {
    labels = ['js', 'wasm-simd'];
    if (supportsRelaxedSimd()) labels.push('wasm-relaxed');
  }
  return labels.map((label) => ({ label, create: ALL[label] }));
}

/** True in the project that re-runs the suite on the relaxed build only. */
export const RELAXED_PROJECT = process.env.WEFT_TEST_VARIANTS === 'relaxed';

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Assert |actual - expected| <= atol + rtol * |expected| elementwise; report the worst and first failures. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol, rtol }: Tolerance,
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0, worstIndex = -1, firstBad = -1;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    const bad = !(diff <= atol + rtol * Math.abs(expected[i]));
    if (bad && firstBad < 0) firstBad = i;
    if (!(diff <= worst)) {
      worst = diff;
      worstIndex = i;
    }
  }
  if (firstBad >= 0) {
    expect.fail(
      `${what}: max |diff| ${worst} at index ${worstIndex} (got ${actual[worstIndex]}, want ${expected[worstIndex]}); ` +
        `first mismatch at ${firstBad} (got ${actual[firstBad]}, want ${expected[firstBad]}); atol ${atol}, rtol ${rtol}`,
    );
  }
}

/** f32 matmul tolerance for a reduction of length k: grows like sqrt(k) of the f32 epsilon. */
export function dotTolerance(k: number): Tolerance {
  return { atol: 1e-5 * Math.sqrt(Math.max(1, k)), rtol: 1e-5 * Math.sqrt(Math.max(1, k)) };
}

/** Reference C = op(A) @ op(B) (+ bias) in f64, batched with broadcasting, for tests only. */
export function referenceMatmul(
  a: Tensor,
  b: Tensor,
  options: { transposeA?: boolean; transposeB?: boolean; bias?: Tensor } = {},
): Float64Array {
  const at = (t: Tensor, bi: number, r: number, c: number, transposed: boolean) => {
    const [rows, cols] = t.shape.slice(-2);
    const batchOffset = t.shape.length === 3 ? bi * rows * cols : 0;
    return transposed ? t.data[batchOffset + c * cols + r] : t.data[batchOffset + r * cols + c];
  };
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = options.transposeA ? ac : ar, K = options.transposeA ? ar : ac;
  const N = options.transposeB ? br : bc;
  const batch = Math.max(a.shape.length === 3 ? a.shape[0] : 1, b.shape.length === 3 ? b.shape[0] : 1);
  const out = new Float64Array(batch * M * N);
  for (let bi = 0; bi < batch; bi++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = options.bias ? options.bias.data[n] : 0;
        for (let k = 0; k < K; k++) s += at(a, bi, m, k, !!options.transposeA) * at(b, bi, k, n, !!options.transposeB);
        out[(bi * M + m) * N + n] = s;
      }
  return out;
}

/** Expect `fn` to throw a WeftError with `code` (and a message matching `message` when given). */
export function expectWeftError(fn: () => unknown, code: string, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a WeftError to be thrown').toBeInstanceOf(Error);
  expect((caught as Error).name).toBe('WeftError');
  expect((caught as { code?: string }).code, (caught as Error).message).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

/** The async twin of expectWeftError. */
export async function expectWeftErrorAsync(fn: () => Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a WeftError to be thrown').toBeInstanceOf(Error);
  expect((caught as { code?: string }).code, (caught as Error).message).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

/**
 * Central differences (f(x + h) - f(x - h)) / 2h of `loss` for every element of
 * `data`, perturbed in place (and restored). Use an f64 copy of the operand: f32
 * would round small steps away.
 */
export function centralDifferences(data: Float64Array, loss: () => number, h: number): Float64Array {
  const grad = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    data[i] = x + h;
    const up = loss();
    data[i] = x - h;
    const down = loss();
    data[i] = x;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** gensim (Debian python3-gensim, run by /usr/bin/python3): the outside oracle of the word2vec tests. */
export const GENSIM_PYTHON = '/usr/bin/python3';
export const hasGensim = spawnSync(GENSIM_PYTHON, ['-c', 'import gensim'], { encoding: 'utf8' }).status === 0;
if (!hasGensim) {
  if (process.env.WEFT_REQUIRE_GENSIM === '1') throw new Error('WEFT_REQUIRE_GENSIM=1 but /usr/bin/python3 cannot import gensim');
  console.warn('gensim tests skipped: /usr/bin/python3 cannot import gensim (apt-get install python3-gensim)');
}

/** Run a python script with gensim (argv after the script); its last stdout line, parsed as JSON. */
export function runGensimScript(script: string, args: string[], timeoutMs = 120_000): unknown {
  const run = spawnSync(GENSIM_PYTHON, ['-c', script, ...args], { encoding: 'utf8', timeout: timeoutMs });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

/**
 * A temporary directory for one describe block: made before its tests, removed after them.
 * `dir.path()` is the directory, `dir.path(name)` a file in it.
 */
export function tempDirFixture(prefix: string): { path(name?: string): string } {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { path: (name) => (name === undefined ? dir : join(dir, name)) };
}
