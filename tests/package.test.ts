// The built package as a user's project sees it. What `npm pack` would put in the tarball:
// the files, the packed size (at most 400 kB), each WASM build embedded once in the two
// bundles that embed it and nowhere else. Then, in child processes (no vitest module
// graph in between): `import` (the ESM bundle, which embeds them), `require('weft-wasm')`
// (dist/index.cjs, which requires that same ES module; a clear error on a Node that cannot
// require ES modules); the one declaration file (the names src/index.ts exports and
// no other), and an ESM, a CommonJS and a <script> consumer compiled by strict TypeScript
// 5.0, 5.4, the current release and the repository's. The project folder is a temporary
// directory whose node_modules/weft-wasm links to this repository, so resolution goes
// through the exports map exactly as from an installed package. Needs `npm run build`
// (npm test runs it). The packed tarball itself, installed and run by other runtimes and
// bundlers and by a compiled .cts consumer: tests/compat/.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
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

/**
 * TypeScript releases besides the repository's that compile a consumer: the oldest the
 * declarations support, 5.4, and the current release (bump it when a new one comes out).
 * Fetched once into node_modules/.cache/weft-typescript (about 2 s from npm's cache).
 */
const OTHER_TYPESCRIPTS = ['5.0.4', '5.4.5', '7.0.2'];
const TYPESCRIPT_CACHE = join(ROOT, 'node_modules/.cache/weft-typescript');

/** The tsc of each of OTHER_TYPESCRIPTS (installed side by side as typescript-<version>), fetching the missing ones. */
function otherTypescripts(): Map<string, string> {
  const tscOf = (version: string) => join(TYPESCRIPT_CACHE, `node_modules/typescript-${version}/bin/tsc`);
  if (!OTHER_TYPESCRIPTS.every((version) => existsSync(tscOf(version)))) {
    mkdirSync(TYPESCRIPT_CACHE, { recursive: true });
    const dependencies = Object.fromEntries(OTHER_TYPESCRIPTS.map((v) => [`typescript-${v}`, `npm:typescript@${v}`]));
    writeFileSync(join(TYPESCRIPT_CACHE, 'package.json'), JSON.stringify({ private: true, dependencies }, null, 2));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], { cwd: TYPESCRIPT_CACHE, encoding: 'utf8' });
  }
  return new Map(OTHER_TYPESCRIPTS.map((version) => [version, tscOf(version)]));
}

/** Names a module's top-level statements declare, and those it exports (by declaration or `export { }`). */
function topLevelNames(path: string): { declared: Set<string>; exported: Set<string> } {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const declared = new Set<string>();
  const exported = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) exported.add(element.name.text);
      }
      continue;
    }
    const names = ts.isVariableStatement(statement)
      ? statement.declarationList.declarations.map((d) => (d.name as ts.Identifier).text)
      : ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isClassDeclaration(statement) ||
          ts.isFunctionDeclaration(statement) || ts.isEnumDeclaration(statement)
        ? [statement.name!.text]
        : [];
    const isExported = ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    for (const name of names) {
      declared.add(name);
      if (isExported) exported.add(name);
    }
  }
  return { declared, exported };
}

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

  it('holds the bundles, the two .wasm builds, the worker and one declaration file, and no demo', () => {
    expect(packed.files.map((f) => f.path).sort()).toEqual([
      'CHANGELOG.md', 'LICENSE', 'README.md', 'dist/cli.js', 'dist/index.cjs', 'dist/index.d.cts', 'dist/index.d.ts', 'dist/index.js',
      'dist/weft-relaxed.wasm', 'dist/weft-simd.wasm', 'dist/weft-worker.js', 'dist/weft.iife.d.ts', 'dist/weft.iife.js', 'package.json',
    ]);
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

  it("require('weft-wasm') gets the ES module itself: the same exports as import, one WeftError class", () => {
    const result = runNode(project, 'require.cjs', `
      const { createWeft, WeftError } = require('weft-wasm');
      if (!require.resolve('weft-wasm').endsWith('index.cjs')) throw new Error('resolved ' + require.resolve('weft-wasm'));
      (async () => {
        const imported = await import('weft-wasm');
        if (imported.WeftError !== WeftError || imported.createWeft !== createWeft) throw new Error('two copies of the library');
        ${PROBE}
      })();
    `);
    expect(result).toEqual(EXPECTED);
  });

  it("on a Node that cannot require an ES module (< 20.19, 22.0 - 22.11), require('weft-wasm') says what to do", () => {
    writeFileSync(join(project, 'no-require-esm.cjs'), "require('weft-wasm');\n");
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--no-experimental-require-module', 'no-require-esm.cjs'], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stderr = (err as { stderr: string }).stderr;
    }
    expect(stderr).toMatch(/weft-wasm: require\(\) of this ES module needs Node 20\.19\+ or 22\.12\+ .*load it with import instead/);
  });

  it("import from 'weft-wasm' loads the ESM bundle", () => {
    const result = runNode(project, 'import.mjs', `
      import { createWeft, WeftError } from 'weft-wasm';
      if (!import.meta.resolve('weft-wasm').endsWith('/dist/index.js')) throw new Error('resolved ' + import.meta.resolve('weft-wasm'));
      ${PROBE}
    `);
    expect(result).toEqual(EXPECTED);
  });

  it('in a runtime without process.getBuiltinModule or DecompressionStream, import and require load the builds and start threads', () => {
    // the built-ins come from the import() compiled at run time (src/node_builtin.ts; vitest's
    // module runner cannot run it, plain Node can), the ESM bundle's builds are unpacked by node:zlib
    const hide = 'delete process.getBuiltinModule; delete globalThis.DecompressionStream;';
    const threads = 'const weft = await createWeft({ threads: 2 }); console.log(JSON.stringify(weft.features.threads)); weft.dispose();';
    expect(runNode(project, 'old-node.mjs', `${hide} const { createWeft } = await import('weft-wasm'); ${threads}`)).toBe(2);
    expect(runNode(project, 'old-node.cjs', `${hide} const { createWeft } = require('weft-wasm'); (async () => { ${threads} })();`)).toBe(2);
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

  it('the one declaration file holds what src/index.ts exports, self-contained, and nothing else', () => {
    const text = readFileSync(join(ROOT, 'dist/index.d.cts'), 'utf8');
    const rollup = topLevelNames(join(ROOT, 'dist/index.d.cts'));
    const entry = topLevelNames(join(ROOT, 'src/index.ts'));
    expect([...rollup.declared].filter((name) => !rollup.exported.has(name)), 'declared, not exported').toEqual([]);
    expect([...rollup.exported].sort()).toEqual([...entry.exported].sort());
    expect(text).not.toMatch(/^\s*(import|\/\/\/ <reference)/m);
    expect(readFileSync(join(ROOT, 'dist/index.d.ts'), 'utf8')).toBe("export * from './index.cjs';\n");
  });

  it(`strict TypeScript ${OTHER_TYPESCRIPTS.join(', ')} and the repository's compile an import, a require (.cts) and the iife global without skipLibCheck`, async () => {
    // only lib es2022 and dom: the declarations must not need @types/node (the project has no @types)
    writeFileSync(join(project, 'consumer.mts'), `
      import { createWeft, ErrorCode, SkipGramModel, WeftError, type Rnn2dCell, type Tensor, type UnigramSampler, type Weft } from 'weft-wasm';
      const weft: Weft = await createWeft({ threads: 1, simd: 'auto' });
      const c: Tensor = weft.matmul(weft.tensor(new Float32Array([1, 2]), [1, 2]), weft.tensor(new Float32Array([3, 4]), [2, 1]));
      const sampler: UnigramSampler = weft.softmax.unigramSampler({ counts: [1, 2, 3] });
      const cell: Rnn2dCell = 'lstm';
      const model = weft.skipGram({ dim: 8 }).buildVocab('a b a');
      let code: ErrorCode | undefined;
      try {
        weft.matmul(weft.zeros([2, 3]), weft.zeros([2, 3]));
      } catch (err) {
        if (err instanceof WeftError) code = err.code;
      }
      console.log(c.data[0], sampler.classes, cell, model instanceof SkipGramModel, code === ErrorCode.SHAPE);
    `);
    writeFileSync(join(project, 'consumer.cts'), `
      import { createWeft, WeftError, type Weft } from 'weft-wasm';
      void createWeft({ backend: 'js' }).then((weft: Weft) => console.log(weft.zeros([2]).data, new WeftError('RANGE', 'x').code));
    `);
    writeFileSync(join(project, 'page.ts'), `
      /// <reference types="weft-wasm/iife" />
      void weft.createWeft({ backend: 'js' }).then((w) => w.zeros([2]).data.length);
    `);
    const strict = ['--target', 'es2022', '--lib', 'es2022,dom', '--strict', '--skipLibCheck', 'false', '--noEmit'];
    const compilers = [['repository', TSC], ...otherTypescripts()];
    const runs = compilers.map(async ([version, tsc]) => {
      const node16 = ['--module', 'node16', '--moduleResolution', 'node16', ...strict, 'consumer.mts', 'consumer.cts', 'page.ts'];
      try {
        await promisify(execFile)(process.execPath, [tsc, ...node16], { cwd: project, encoding: 'utf8' });
        return `${version}: ok`;
      } catch (err) {
        return `${version}: ${(err as { stdout: string }).stdout}`;
      }
    });
    expect(await Promise.all(runs)).toEqual(compilers.map(([version]) => `${version}: ok`));
  }, 120_000);
});
