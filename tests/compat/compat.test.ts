// The packed package (`npm pack`) installed into fresh consumer projects, each running the one
// smoke run (consumer/smoke.mjs: createWeft, one op of each family against backend 'js', a bad
// call's WeftError, dispose) and reporting back as JSON:
//  - Node 20 (the machine's, this process's), 22 and 24, each by `import` and by `require`;
//  - a TypeScript .cts consumer compiled by strict TypeScript without skipLibCheck, then run;
//  - Bun and Deno (no permission flags), by `import` and by `require`;
//  - pages bundled by esbuild, Vite and webpack 5 from `import { createWeft } from 'weft-wasm'`,
//    with no bundler warning that mentions weft, served cross-origin isolated and run in Chromium;
//  - @arethetypeswrong/cli and publint on the same tarball.
// Node 22/24, Bun, Deno and the bundlers come from the npm registry (tools.ts): without it those
// cases skip, unless WEFT_REQUIRE_COMPAT=1; Chromium follows WEFT_REQUIRE_BROWSER (tests/browser).
// `npm run test:compat` runs this file alone (after a build).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CROSS_ORIGIN_ISOLATION } from '../../src/cli/static-server.js';
import { chromiumPath, openServedPage } from '../browser/chromium.js';
import { consumerProject, packTarball, runJson } from './consumers.js';
import { installTools, requireTool, TOOLS_DIR, type ToolName } from './tools.js';
import type { SmokeReport } from './consumer/smoke.mjs';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');
const BUNDLE_SCRIPT = join(import.meta.dirname, 'bundle.mjs');

/** Elements each op's result holds (consumer/smoke.mjs's sizes; skip-gram: 13 words, dim 8): a report of the wrong op fails here. */
const RESULT_LENGTHS = { matmul: 5 * 3, attention: 2 * 9 * 4, rnn2d: 4 * 5 * 6, conv2d: 6 * 5 * 4, softmax: 1 + 3 * 8, skipGram: 13 * 8 };

/** V8 compiles relaxed SIMD without a flag from Node 22 on. */
const THIS_NODE_RELAXED = Number(process.versions.node.split('.')[0]) >= 22;

/**
 * The checks every consumer's report passes: it ran in `runtime` (a pattern of SmokeReport.runtime),
 * which compiles the relaxed build without a flag or not (`relaxedSimd`).
 */
function expectSmokeReport(report: SmokeReport | { failure: string }, runtime: RegExp, relaxedSimd: boolean, threads = availableParallelism()): void {
  expect(report, 'failure' in report ? report.failure : '').not.toHaveProperty('failure');
  const smoke = report as SmokeReport;
  expect(smoke.runtime).toMatch(runtime);
  console.log(`${smoke.runtime}: ${JSON.stringify(smoke.features)}`);
  expect(smoke.backend).toBe('wasm');
  expect(smoke.features).toEqual({ simd: true, relaxedSimd, threads });
  expect(Object.keys(smoke.ops).sort()).toEqual(Object.keys(RESULT_LENGTHS).sort());
  for (const [op, difference] of Object.entries(smoke.ops)) {
    const detail = `${op}: ${JSON.stringify(difference)}`;
    expect(difference.length, detail).toBe(RESULT_LENGTHS[op as keyof typeof RESULT_LENGTHS]);
    expect(difference.maxAbsRef, detail).toBeGreaterThan(0);
    expect(difference.maxAbsDiff, detail).toBeLessThanOrEqual(difference.tolerance);
    // the smoke's tolerance itself: f32 rounding at these sizes, never loose enough to hide a wrong result
    expect(difference.tolerance, detail).toBeLessThanOrEqual(1e-3);
  }
  // the same subsampling and windows on both backends: the same pairs trained
  expect(smoke.ops.skipGram.pairs[0]).toBeGreaterThan(100);
  expect(smoke.ops.skipGram.pairs[1]).toBe(smoke.ops.skipGram.pairs[0]);
  expect(smoke.error).toEqual({ isWeftError: true, name: 'WeftError', code: 'SHAPE', message: expect.stringMatching(/^matmul: inner dimensions differ/) });
  expect(smoke.liveBytes).toBe(0);
}

let scratch: string;
let tarball: Promise<string>;
const projects = new Map<string, Promise<string>>();

/** The consumer project of `name` (one per runtime or bundler, made on first use). */
function project(name: string): Promise<string> {
  if (!projects.has(name)) projects.set(name, tarball.then((file) => consumerProject(scratch, name, file)));
  return projects.get(name)!;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'weft-compat-'));
  tarball = packTarball(scratch);
  // fetched while the first consumers run on this machine's Node
  void installTools();
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A runtime: its executable (this Node, or a tool), how it runs a file, and whether it compiles relaxed SIMD unflagged. */
interface Runtime {
  name: string;
  /** What the smoke run reports as its runtime. */
  reports: RegExp;
  tool?: ToolName;
  args: (file: string) => string[];
  env?: Record<string, string>;
  relaxedSimd: boolean;
}

const RUNTIMES: Runtime[] = [
  { name: `node ${process.versions.node}`, reports: new RegExp(`^node ${process.versions.node}$`), args: (file) => [file], relaxedSimd: THIS_NODE_RELAXED },
  { name: 'node 22', reports: /^node 22\./, tool: 'node22', args: (file) => [file], relaxedSimd: true },
  { name: 'node 24', reports: /^node 24\./, tool: 'node24', args: (file) => [file], relaxedSimd: true },
  { name: 'bun', reports: /^bun 1\./, tool: 'bun', args: (file) => [file], relaxedSimd: true },
  {
    name: 'deno',
    reports: /^deno 2\./,
    tool: 'deno',
    // the package from the project's node_modules (npm installed it), and no permission at all
    args: (file) => ['run', '--node-modules-dir=manual', '--no-prompt', file],
    env: { DENO_DIR: join(TOOLS_DIR, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' },
    relaxedSimd: true,
  },
];

describe.concurrent('the packed package in a consumer project', () => {
  for (const runtime of RUNTIMES) {
    for (const entry of ['import.mjs', 'require.cjs']) {
      it(`${runtime.name}: ${entry === 'import.mjs' ? 'import' : 'require'}`, async ({ skip }) => {
        const executable = runtime.tool ? await requireTool(runtime.tool, skip) : process.execPath;
        const cwd = await project(runtime.tool ?? 'node');
        expectSmokeReport(await runJson(executable, runtime.args(entry), { cwd, env: runtime.env }) as SmokeReport, runtime.reports, runtime.relaxedSimd);
      });
    }
  }

  it('TypeScript: a .cts consumer compiles (strict, node16 and nodenext, no skipLibCheck) and runs', async () => {
    const cwd = await project('typescript');
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    // lib es2022 and dom only: the declarations must not need @types/node
    const strict = ['--target', 'es2022', '--lib', 'es2022,dom', '--strict', '--skipLibCheck', 'false', 'typed.cts'];
    const compile = (...args: string[]) => promisify(execFile)(process.execPath, [tsc, ...args, ...strict], { cwd }).catch((err) => {
      throw new Error(`tsc ${args.join(' ')}: ${(err as { stdout: string }).stdout}`);
    });
    await Promise.all([
      compile('--module', 'nodenext', '--moduleResolution', 'nodenext', '--noEmit'),
      compile('--module', 'node16', '--moduleResolution', 'node16'),
    ]);
    expectSmokeReport(await runJson(process.execPath, ['typed.cjs'], { cwd }) as SmokeReport, new RegExp(`^node ${process.versions.node}$`), THIS_NODE_RELAXED);
  });

  describe.skipIf(!chromiumPath)('a page bundled from the package, in Chromium', () => {
    for (const bundler of ['esbuild', 'vite', 'webpack'] as const) {
      it(`${bundler}: builds with no warning about weft, runs on every core`, async ({ skip }) => {
        await requireTool(bundler, skip);
        const cwd = await project(bundler);
        const built = await runJson(process.execPath, [BUNDLE_SCRIPT, bundler, TOOLS_DIR], { cwd }) as { version: string; warnings: string[] };
        console.log(`${bundler} ${built.version}: ${built.warnings.length} warning(s)${built.warnings.length ? ':\n' + built.warnings.join('\n') : ''}`);
        expect(built.warnings.filter((warning) => /weft/i.test(warning))).toEqual([]);
        // isolated, so the pool's workers start from the bundle too
        const chromium = await openServedPage({ '/': join(cwd, `out-${bundler}`) }, { headers: CROSS_ORIGIN_ISOLATION });
        try {
          await chromium.page.waitForFunction(() => 'smokeReport' in window, undefined, { timeout: 60_000 });
          const report = await chromium.page.evaluate(() => (window as unknown as { smokeReport: SmokeReport }).smokeReport);
          const cores = await chromium.page.evaluate(() => navigator.hardwareConcurrency);
          expectSmokeReport(report, /HeadlessChrome\/\d+/, true, cores);
          expect(chromium.errors).toEqual([]);
        } finally {
          await chromium.close();
        }
      });
    }
  });

  it('@arethetypeswrong/cli: the main entry resolves with types in node10, node16 (CJS and ESM) and bundler; the others as known', async () => {
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)(join(BIN, 'attw'), [await tarball, '--format', 'json'], { encoding: 'utf8' }));
    } catch (err) {
      stdout = (err as { stdout: string }).stdout; // exit code 1 on any problem: the list says which
    }
    const { analysis, problems } = JSON.parse(stdout) as {
      analysis: { entrypoints: Record<string, { resolutions: Record<string, unknown> }> };
      problems: Record<string, { entrypoint: string; resolutionKind: string }[]>;
    };
    const found = Object.values(problems).flat().map((p) => `${p.entrypoint} ${p.resolutionKind} ${(p as { kind?: string }).kind}`);
    expect(Object.keys(analysis.entrypoints['.'].resolutions).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm']);
    // Not modules, by design: the .wasm builds are files for the `module` option (import.meta.resolve
    // finds them, a type checker cannot) and the worker is a classic script started by URL;
    // `iife` types the global of a <script> (a /// <reference types>, never a require), and node10
    // resolution has no exports map, so no subpath resolves there.
    const asset = (entry: string) => ['node10', 'node16-cjs', 'node16-esm', 'bundler'].map((kind) => `${entry} ${kind} NoResolution`);
    expect(found.sort()).toEqual([
      ...asset('./weft-simd.wasm'), ...asset('./weft-relaxed.wasm'),
      './weft-worker.js node10 NoResolution', './weft-worker.js node16-cjs CJSResolvesToESM',
      ...['node16-cjs', 'node16-esm', 'bundler'].map((kind) => `./weft-worker.js ${kind} UntypedResolution`),
      './iife node10 NoResolution', './iife node16-cjs CJSResolvesToESM',
    ].sort());
  });

  it('publint: no error, warning or suggestion', async () => {
    const { stdout } = await promisify(execFile)(join(BIN, 'publint'), ['run', await tarball, '--level', 'suggestion', '--strict'], { encoding: 'utf8' });
    expect(stdout).toMatch(/All good!/);
  });
});
