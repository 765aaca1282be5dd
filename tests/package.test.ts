// The built package as a user's project sees it, in child processes (no vitest module
// graph in between): `require('weft-wasm')` (the CommonJS bundle, which reads the shipped
// .wasm files), `import` (the ESM bundle, which embeds them), and a TypeScript `.cts`
// consumer compiled with the repository's TypeScript under node16 and nodenext resolution,
// without skipLibCheck, then run. The project folder is a temporary directory whose
// node_modules/weft-wasm links to this repository, so resolution goes through the exports
// map exactly as from an installed package. Needs `npm run build` (npm test runs it).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELAXED_PROJECT } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** Runs `source` with node in `cwd` (`.cjs` or `.mjs` by `file`) and returns its stdout, parsed as JSON. */
function runNode(cwd: string, file: string, source: string): unknown {
  writeFileSync(join(cwd, file), source);
  return JSON.parse(execFileSync(process.execPath, [file], { cwd, encoding: 'utf8' }));
}

// what each consumer prints: the features, a product, and the error of a bad call
const PROBE = `
  const weft = await createWeft({ threads: 1 });
  const c = weft.matmul(weft.tensor(new Float32Array([1, 2]), [1, 2]), weft.tensor(new Float32Array([3, 4]), [2, 1]));
  let error;
  try {
    weft.matmul(weft.zeros([2, 3]), weft.zeros([2, 3]));
  } catch (err) {
    error = { isWeftError: err instanceof WeftError, code: err.code, message: err.message };
  }
  console.log(JSON.stringify({ backend: weft.backend, simd: weft.features.simd, product: Array.from(c.data), error }));
`;

const EXPECTED = {
  backend: 'wasm',
  simd: true,
  product: [11],
  error: { isWeftError: true, code: 'SHAPE', message: expect.stringMatching(/matmul/) },
};

// one process per consumer (a few seconds in all): once, not again in the relaxed project
describe.skipIf(RELAXED_PROJECT)('the package from a user project', () => {
  let project: string;

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'weft-consumer-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules/weft-wasm'), 'dir');
    writeFileSync(join(project, 'package.json'), '{ "name": "consumer", "private": true }\n');
  });

  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
  });

  it("require('weft-wasm') loads the CommonJS bundle, which runs the WASM build read from the shipped file", () => {
    const result = runNode(project, 'require.cjs', `
      const { createWeft, WeftError } = require('weft-wasm');
      if (!require.resolve('weft-wasm').endsWith('index.cjs')) throw new Error('resolved ' + require.resolve('weft-wasm'));
      (async () => { ${PROBE} })();
    `);
    expect(result).toEqual(EXPECTED);
  });

  it("import from 'weft-wasm' loads the ESM bundle", () => {
    const result = runNode(project, 'import.mjs', `
      import { createWeft, WeftError } from 'weft-wasm';
      if (!import.meta.resolve('weft-wasm').endsWith('/dist/index.js')) throw new Error('resolved ' + import.meta.resolve('weft-wasm'));
      ${PROBE}
    `);
    expect(result).toEqual(EXPECTED);
  });

  it('a TypeScript .cts consumer typechecks (node16 and nodenext, no skipLibCheck) and runs', () => {
    writeFileSync(join(project, 'main.cts'), `
      import { createWeft, WeftError, type Tensor, type Weft } from 'weft-wasm';
      async function main(): Promise<void> {
        const weft: Weft = await createWeft({ threads: 1 });
        const c: Tensor = weft.matmul(weft.tensor(new Float32Array([1, 2]), [1, 2]), weft.tensor(new Float32Array([3, 4]), [2, 1]));
        let code: string | undefined;
        try {
          weft.matmul(weft.zeros([2, 3]), weft.zeros([2, 3]));
        } catch (err) {
          if (err instanceof WeftError) code = err.code;
        }
        console.log(JSON.stringify({ product: Array.from(c.data), code }));
      }
      void main();
    `);
    for (const resolution of ['node16', 'nodenext']) {
      const outDir = join(project, `out-${resolution}`);
      execFileSync(process.execPath, [
        TSC, '--module', resolution, '--moduleResolution', resolution, '--target', 'es2022', '--lib', 'es2022,dom',
        '--strict', '--skipLibCheck', 'false', '--outDir', outDir, 'main.cts',
      ], { cwd: project, encoding: 'utf8' });
      const out = JSON.parse(execFileSync(process.execPath, [join(outDir, 'main.cjs')], { cwd: project, encoding: 'utf8' }));
      expect(out, resolution).toEqual({ product: [11], code: 'SHAPE' });
    }
  });

  it("the ESM and CommonJS declarations are the ones a wrong call is checked against", () => {
    writeFileSync(join(project, 'wrong.mts'), "import { createWeft } from 'weft-wasm';\nexport const n: number = createWeft;\n");
    writeFileSync(join(project, 'wrong.cts'), "import { WeftError } from 'weft-wasm';\nexport const n: number = WeftError;\n");
    let output = '';
    try {
      execFileSync(process.execPath, [
        TSC, '--module', 'node16', '--moduleResolution', 'node16', '--lib', 'es2022,dom', '--noEmit', 'wrong.mts', 'wrong.cts',
      ], { cwd: project, encoding: 'utf8' });
    } catch (err) {
      output = (err as { stdout: string }).stdout;
    }
    expect(output).toMatch(/wrong\.mts.*TS2322: Type '\(options\?: CreateWeftOptions/);
    expect(output).toMatch(/wrong\.cts.*TS2322: Type 'typeof WeftError'/);
  });
});
