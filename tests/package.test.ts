// The built package as a user's project sees it. What `npm pack` would put in the tarball:
// the files, the packed size (at most 400 kB), each WASM build embedded once in the two
// bundles that embed it and nowhere else. Then, in child processes (no vitest module
// graph in between): `require('weft-wasm')` (the CommonJS bundle, which reads the shipped
// .wasm files), `import` (the ESM bundle, which embeds them), and a TypeScript `.cts`
// consumer compiled with the repository's TypeScript under node16 and nodenext resolution,
// without skipLibCheck, then run. The project folder is a temporary directory whose
// node_modules/weft-wasm links to this repository, so resolution goes through the exports
// map exactly as from an installed package. Needs `npm run build` (npm test runs it).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELAXED_WASM_GZIP_BASE64, SIMD_WASM_GZIP_BASE64 } from '../src/backend/wasm/embedded.generated.js';
import { kernelModuleBytes } from '../src/backend/wasm/module_bytes.js';
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

/** The packed size the package must stay under, in bytes. */
const PACKED_LIMIT = 400_000;

interface Packed {
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

describe.skipIf(RELAXED_PROJECT)('the tarball (npm pack --dry-run)', () => {
  let packed: Packed;
  let shipped: Map<string, string>;

  beforeAll(() => {
    // --ignore-scripts: prepack would rebuild dist/ under the other tests
    const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    packed = (JSON.parse(json) as Packed[])[0];
    shipped = new Map(packed.files.map((f) => [f.path, readFileSync(join(ROOT, f.path), 'latin1')]));
  });

  it('holds the bundles, the two .wasm builds, the worker and the declarations, and no demo', () => {
    const paths = packed.files.map((f) => f.path).sort();
    const declarations = paths.filter((p) => p.startsWith('dist/types/'));
    expect(paths.filter((p) => !p.startsWith('dist/types/'))).toEqual([
      'CHANGELOG.md', 'LICENSE', 'README.md', 'dist/cli.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.js', 'dist/weft-relaxed.wasm',
      'dist/weft-simd.wasm', 'dist/weft-worker.js', 'dist/weft.iife.d.ts', 'dist/weft.iife.js', 'package.json',
    ]);
    expect(declarations).toContain('dist/types/index.d.ts');
    expect(declarations).toContain('dist/types/package.json');
    expect(declarations.filter((p) => !p.endsWith('.d.ts'))).toEqual(['dist/types/package.json']);
  });

  it('every file package.json points at (main, module, types, unpkg, jsdelivr, bin, exports) is packed', () => {
    const pkg = JSON.parse(shipped.get('package.json')!) as Record<string, unknown>;
    const targets: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    for (const field of ['main', 'module', 'types', 'unpkg', 'jsdelivr', 'bin', 'exports']) collect(pkg[field]);
    expect(pkg.unpkg).toBe('./dist/weft.iife.js');
    expect(pkg.jsdelivr).toBe('./dist/weft.iife.js');
    for (const target of targets) expect(shipped.has(target), target).toBe(true);
  });

  it(`packs to at most ${PACKED_LIMIT / 1000} kB`, () => {
    const sizes = packed.files.map((f) => `${f.path} ${f.size}`).join('\n');
    expect(packed.size, `packed ${packed.size} B, unpacked ${packed.unpackedSize} B:\n${sizes}`).toBeLessThanOrEqual(PACKED_LIMIT);
  });

  it('no bundle holds an import() of a variable, which webpack 5 reports as a critical dependency', () => {
    // the one import() is in a string, compiled at run time in Node < 20.16 (src/node_builtin.ts)
    for (const [path, text] of shipped) {
      if (!/\.c?js$/.test(path)) continue;
      expect(text.split('import(').length, path).toBe(text.split('"return import(specifier)"').length);
    }
  });

  it('each build is embedded once in the ESM and IIFE bundles and nowhere else, and equals the shipped .wasm', async () => {
    // a stretch of each embedded string from its middle (the gzip headers at their start are alike)
    const marks = { simd: SIMD_WASM_GZIP_BASE64, relaxed: RELAXED_WASM_GZIP_BASE64 };
    for (const [variant, embedded] of Object.entries(marks)) {
      const mark = embedded.slice(embedded.length >> 1, (embedded.length >> 1) + 64);
      for (const [path, text] of shipped) {
        const copies = text.split(mark).length - 1;
        expect(copies, `${variant} build in ${path}`).toBe(path === 'dist/index.js' || path === 'dist/weft.iife.js' ? 1 : 0);
      }
      const file = new Uint8Array(readFileSync(join(ROOT, `dist/weft-${variant}.wasm`)));
      expect(await kernelModuleBytes(variant as 'simd' | 'relaxed')).toEqual(file);
    }
    // no raw base64 module (its magic "\0asm" version 1 is "AGFzbQEAAAA") in any file
    for (const [path, text] of shipped) expect(text.includes('AGFzbQEAAAA'), path).toBe(false);
  });
});

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

  it('in a Node without process.getBuiltinModule (< 20.16) or DecompressionStream, both bundles load their builds and start threads', () => {
    // the built-ins come from the import() compiled at run time (src/node_builtin.ts; vitest's
    // module runner cannot run it, plain Node can), the ESM bundle's builds are unpacked by node:zlib
    const hide = 'delete process.getBuiltinModule; delete globalThis.DecompressionStream;';
    const threads = 'const weft = await createWeft({ threads: 2 }); console.log(JSON.stringify(weft.features.threads)); weft.dispose();';
    expect(runNode(project, 'old-node.mjs', `${hide} const { createWeft } = await import('weft-wasm'); ${threads}`)).toBe(2);
    expect(runNode(project, 'old-node.cjs', `${hide} const { createWeft } = require('weft-wasm'); (async () => { ${threads} })();`)).toBe(2);
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
