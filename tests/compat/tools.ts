// The runtimes and bundlers the compat suite runs consumers with, beyond the machine's Node:
// Node 22 and 24 (the npm package `node` installs that version's binary), Bun and Deno (their
// npm packages ship the binaries), esbuild, Vite and webpack. Installed once from the npm
// registry into node_modules/.cache/weft-compat (about 20 s cold, 2 s from npm's cache) and
// reused while its package.json is unchanged. Where they cannot be fetched (no registry), the
// cases that need them skip with what is missing, unless WEFT_REQUIRE_COMPAT=1 (set by .ci/run).

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '../..');
export const TOOLS_DIR = join(ROOT, 'node_modules/.cache/weft-compat');
export const compatRequired = process.env.WEFT_REQUIRE_COMPAT === '1';

/** Each tool's npm package and version range: the current major of each (bump when one ships). */
const TOOL_PACKAGES = {
  node22: 'npm:node@22',
  node24: 'npm:node@24',
  bun: '1',
  deno: '2',
  esbuild: '0',
  vite: '8',
  webpack: '5',
} as const;
export type ToolName = keyof typeof TOOL_PACKAGES;

const TOOLS_PACKAGE_JSON = JSON.stringify({
  private: true,
  dependencies: TOOL_PACKAGES,
  // npm runs dependencies' install scripts only when allowed: `node` fetches its binary in one
  allowScripts: { node: true, bun: true, deno: true, esbuild: true },
}, null, 2) + '\n';

/** Where a tool's installed executable or package entry is, once installed. */
function toolPath(name: ToolName): string | undefined {
  const bin = (file: string) => existsSync(file) ? file : undefined;
  switch (name) {
    case 'node22':
    case 'node24':
      return bin(join(TOOLS_DIR, 'node_modules', name, 'bin/node'));
    case 'bun':
    case 'deno':
      return bin(join(TOOLS_DIR, 'node_modules/.bin', name));
    default:
      // only from the tools folder: resolving up the tree would find this repository's esbuild and vitest's vite
      return existsSync(join(TOOLS_DIR, 'node_modules', name, 'package.json'))
        ? createRequire(join(TOOLS_DIR, 'package.json')).resolve(name)
        : undefined;
  }
}

const isInstalled = () =>
  existsSync(join(TOOLS_DIR, 'package.json')) && readFileSync(join(TOOLS_DIR, 'package.json'), 'utf8') === TOOLS_PACKAGE_JSON &&
  (Object.keys(TOOL_PACKAGES) as ToolName[]).every((name) => toolPath(name) !== undefined);

let installing: Promise<string | undefined> | undefined;

/** Installs the tools unless they are there; resolves to why the install failed, if it did. */
export function installTools(): Promise<string | undefined> {
  installing ??= (async () => {
    if (isInstalled()) return undefined;
    mkdirSync(TOOLS_DIR, { recursive: true });
    writeFileSync(join(TOOLS_DIR, 'package.json'), TOOLS_PACKAGE_JSON);
    try {
      // --prefer-offline: npm's cache answers without asking the registry when it can
      await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline'], {
        cwd: TOOLS_DIR, encoding: 'utf8', timeout: 300_000,
      });
      return undefined;
    } catch (err) {
      const { stderr, message } = err as { stderr?: string; message: string };
      return (stderr || message).split('\n').filter((line) => /ERR|error/i.test(line)).slice(0, 3).join(' ') || message;
    }
  })();
  return installing;
}

/**
 * The tool's path: an executable (node22, node24, bun, deno) or the package's entry (bundlers).
 * Missing: throws with what is missing under WEFT_REQUIRE_COMPAT=1, else skips the test with it.
 */
export async function requireTool(name: ToolName, skip: (note: string) => never): Promise<string> {
  const failure = await installTools();
  const path = toolPath(name);
  if (path !== undefined) return path;
  const spec = TOOL_PACKAGES[name].startsWith('npm:') ? TOOL_PACKAGES[name].slice(4) : `${name}@${TOOL_PACKAGES[name]}`;
  const missing = `${name} (npm package ${spec}) is not installed in ${TOOLS_DIR}: ` +
    `npm install there failed (${failure ?? 'no error'}); it needs the npm registry`;
  if (compatRequired) throw new Error(`WEFT_REQUIRE_COMPAT=1, but ${missing}`);
  const note = `compat case skipped: ${missing} (CI sets WEFT_REQUIRE_COMPAT=1, so it cannot skip there)`;
  console.warn(note);
  return skip(note);
}
