// `weft demo [--port 8080]`: serve the demo page (dist/demo/, built by
// scripts/build.mjs, which loads the library's dist/weft.iife.js) on 127.0.0.1 and
// print its URL. Runs until interrupted. Every response is cross-origin isolated
// (COOP/COEP), so the page can run weft on several threads.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CROSS_ORIGIN_ISOLATION, serveStatic } from './static-server.js';

export const DEMO_USAGE = `usage: weft demo [--port 8080]

Serves the demo page on 127.0.0.1 with the cross-origin isolation headers (threads), from a
clone of the repository (npm run demo): the package does not ship the demo.

  --port <n>           port on 127.0.0.1, 0 for any free one (8080)
  --help, -h           this text
`;

/** The flags parseArgs takes (each one is listed in DEMO_USAGE: tests/cli.test.ts checks). */
export const DEMO_OPTIONS = {
  port: { type: 'string', default: '8080' },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

export async function runDemoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: DEMO_OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(DEMO_USAGE);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  // dist/cli.js serves dist/: the page at /demo/, the bundle it loads at /weft.iife.js
  const dist = fileURLToPath(new URL('./', import.meta.url));
  // the package leaves the demo out (its corpus alone weighs 128 kB packed): it runs from the repository
  if (!existsSync(`${dist}demo`)) {
    throw new Error(
      `no demo build at ${dist}demo: the demo page runs from a clone of the repository, not from the installed ` +
        'package: clone it, then `npm install && npm run demo`',
    );
  }
  const redirect = '<!doctype html><meta http-equiv="refresh" content="0; url=demo/">';
  const server = await serveStatic({ '/': dist }, { '/': redirect }, { port, headers: CROSS_ORIGIN_ISOLATION });
  console.log(`weft demo: ${server.url}/demo/  (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await server.close();
  return 0;
}
