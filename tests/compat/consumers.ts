// Consumer projects of the packed package: `npm pack` once, then one fresh temporary project
// per runtime or bundler, which `npm install`s that tarball (offline: the package has no
// dependencies) and gets the files of consumer/ (the entries and the shared smoke run).

import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '../..');
const CONSUMER_FILES = join(import.meta.dirname, 'consumer');
const run = promisify(execFile);

/** Packs the repository (dist/ as built: --ignore-scripts, prepack would rebuild it under the other tests) into `dir`; the tarball's path. */
export async function packTarball(dir: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  return join(dir, (JSON.parse(stdout) as { filename: string }[])[0].filename);
}

/** A fresh project in `parent` named for `name`, with the tarball installed and consumer/'s files; its folder. */
export async function consumerProject(parent: string, name: string, tarball: string): Promise<string> {
  const project = mkdtempSync(join(parent, `${name}-`));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `weft-consumer-${name}`, private: true }, null, 2) + '\n');
  await run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: project, encoding: 'utf8' });
  cpSync(CONSUMER_FILES, project, { recursive: true });
  return project;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
}

/** Runs `command args` and parses the last line of its stdout as JSON; a failure carries its stdout and stderr. */
export async function runJson(command: string, args: string[], { cwd, env }: RunOptions): Promise<unknown> {
  try {
    const { stdout } = await run(command, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
    return JSON.parse(stdout.trim().split('\n').at(-1)!);
  } catch (err) {
    const { stdout, stderr, message } = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} in ${cwd}: ${message}\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
}
