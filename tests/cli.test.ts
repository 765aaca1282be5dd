// The `weft` command as installed (dist/cli.js, run in child processes): --version, the
// top-level help, and `--help` on every command, which exits 0 and lists every flag the
// command parses. `weft bench --help` lists the flags and families of the benchmark script
// it points at (build/bench.js). Needs `npm run build` (npm test runs it).

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SKIPGRAM_OPTIONS } from '../src/cli/skipgram.js';
import { EVAL_OPTIONS } from '../src/cli/eval.js';
import { DEMO_OPTIONS } from '../src/cli/demo.js';
import { RELAXED_PROJECT } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');

function run(script: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const { status, stdout, stderr } = spawnSync(process.execPath, [join(ROOT, script), ...args], { encoding: 'utf8' });
  return { status, stdout, stderr };
}
const weft = (...args: string[]) => run('dist/cli.js', ...args);

/** The `--flag` names a help text mentions, sorted. */
const flagsIn = (text: string) => [...new Set(text.match(/--[a-z][a-z-]*/g))].sort();

/** `--name` for every option parseArgs takes, sorted. */
const flagsOf = (options: Record<string, unknown>) => Object.keys(options).map((name) => `--${name}`).sort();

describe.skipIf(RELAXED_PROJECT)('the weft command', () => {
  it('--version and -v print the package version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) expect(weft(flag)).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help lists every command, with the flags of demo and bench, --version, and exits 0; no command exits 1', () => {
    const help = weft('--help');
    expect(help.status).toBe(0);
    for (const text of ['skipgram --train', 'eval --vectors', 'demo [--port', 'bench [--quick] [--out <folder>] [--only <families>]', '--version', '--help']) {
      expect(help.stdout).toContain(text);
    }
    expect(weft('-h').stdout).toBe(help.stdout);
    expect(weft()).toMatchObject({ status: 1, stdout: help.stdout });
    expect(weft('train')).toMatchObject({ status: 1, stderr: expect.stringContaining('unknown command "train"') });
  });

  it.each([
    ['skipgram', SKIPGRAM_OPTIONS],
    ['eval', EVAL_OPTIONS],
    ['demo', DEMO_OPTIONS],
  ])('%s --help exits 0 and lists every flag it parses', (command, options) => {
    for (const flag of ['--help', '-h']) {
      const { status, stdout } = weft(command, flag);
      expect(status).toBe(0);
      expect(flagsIn(stdout)).toEqual(flagsOf(options));
    }
  });

  it("bench --help exits 0 and lists the flags and families of the benchmark script; bench alone says where it runs", () => {
    const help = weft('bench', '--help');
    expect(help.status).toBe(0);
    const script = run('build/bench.js', '--help');
    expect(script.status).toBe(0);
    expect(flagsIn(help.stdout)).toEqual(flagsIn(script.stdout));
    const families = (text: string) => /subset of: (.*)/.exec(text)?.[1];
    expect(families(help.stdout)).toBeDefined();
    expect(families(help.stdout)).toBe(families(script.stdout));
    expect(weft('bench')).toMatchObject({ status: 1, stderr: expect.stringContaining('from a clone of the repository') });
  });
});
