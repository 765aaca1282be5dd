// `weft demo [--port 8080]`: serve the demo page (dist/demo/, built by
// scripts/build.mjs, which loads the library's dist/weft.iife.js) on 127.0.0.1 and
// print its URL. Runs until interrupted. Every response is cross-origin isolated
// (COOP/COEP), so the page can run weft on several threads.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CROSS_ORIGIN_ISOLATION, serveStatic } from './static-server.js';

export async function runDemoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string', default: '8080' } }, strict: true });
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
