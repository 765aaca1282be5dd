// Builds the consumer page (consumer/page.mjs, copied into a consumer project that installed
// the packed weft-wasm) with one bundler, as an app would: `node bundle.mjs <esbuild|vite|webpack>
// <tools dir>` in the project's folder. Writes out-<bundler>/ (index.html and the bundle) and
// prints { version, warnings } as JSON: every warning the bundler reported, as text.
// A child process of its own, so each bundler loads its own dependencies and the three run
// side by side.

import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [bundler, toolsDir] = process.argv.slice(2);
const project = process.cwd();
const outDir = join(project, `out-${bundler}`);
const requireTool = createRequire(join(resolve(toolsDir), 'package.json'));
/** The bundler's module, from the tools folder (not this repository's node_modules). */
const importTool = (name) => import(pathToFileURL(requireTool.resolve(name)).href);

/** index.html loading the bundle `script` as a module script. */
const pageHtml = (script) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>weft ${bundler}</title><link rel="icon" href="data:,">` +
  `<script type="module" src="${script}"></script></head><body></body></html>\n`;

async function esbuildPage() {
  const esbuild = await importTool('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(project, 'page.mjs')], bundle: true, format: 'esm', platform: 'browser', minify: true,
    outfile: join(outDir, 'main.js'), logLevel: 'silent',
  });
  writeFileSync(join(outDir, 'index.html'), pageHtml('./main.js'));
  const warnings = await esbuild.formatMessages(result.warnings, { kind: 'warning' });
  return { version: esbuild.version, warnings };
}

async function vitePage() {
  const vite = await importTool('vite');
  writeFileSync(join(project, 'index.html'), pageHtml('./page.mjs'));
  const warnings = [];
  // rollup's and Vite's own warnings both come through the logger
  const logger = vite.createLogger('warn');
  const collect = (message) => warnings.push(message);
  await vite.build({
    root: project, configFile: false, logLevel: 'warn',
    customLogger: { ...logger, warn: collect, warnOnce: collect, error: collect },
    build: { outDir, emptyOutDir: true },
  });
  return { version: vite.version, warnings };
}

async function webpackPage() {
  const { default: webpack } = await importTool('webpack');
  const stats = await new Promise((done, fail) => webpack({
    mode: 'production', context: project, entry: './page.mjs', target: 'web',
    output: { path: outDir, filename: 'main.js' },
  }, (err, result) => (err ? fail(err) : done(result))));
  const json = stats.toJson({ all: false, warnings: true, errors: true });
  if (json.errors.length) throw new Error(json.errors.map((e) => e.message).join('\n'));
  writeFileSync(join(outDir, 'index.html'), pageHtml('./main.js'));
  return { version: webpack.version, warnings: json.warnings.map((w) => `${w.moduleName ?? ''} ${w.message}`) };
}

const builders = { esbuild: esbuildPage, vite: vitePage, webpack: webpackPage };
console.log(JSON.stringify(await builders[bundler]()));
