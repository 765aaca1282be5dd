// A static file server on 127.0.0.1: `weft demo` and the browser tests (port 0 = any free port).
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.cor': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/**
 * The headers that make a page cross-origin isolated, which browsers require for
 * SharedArrayBuffer and so for weft's threads. Every response gets them, the worker
 * script included (a worker is isolated only when its own script is served with COEP).
 */
export const CROSS_ORIGIN_ISOLATION: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export interface StaticServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Headers added to every response (e.g. CROSS_ORIGIN_ISOLATION, a Content-Security-Policy). */
  headers?: Readonly<Record<string, string>>;
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serve `roots` (URL prefix -> folder) and `pages` (URL path -> HTML) on 127.0.0.1. */
export async function serveStatic(
  roots: Record<string, string>,
  pages: Record<string, string> = {},
  options: StaticServerOptions = {},
): Promise<StaticServer> {
  const { port = 0, headers = {} } = options;
  const server: Server = createServer(async (req, res) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      // a malformed escape (%E0%A4%A) is the client's error, not a crash of the handler
      res.writeHead(400);
      res.end('bad request');
      return;
    }
    if (pages[path] !== undefined) {
      res.writeHead(200, { 'content-type': TYPES['.html'] });
      res.end(pages[path]);
      return;
    }
    for (const [prefix, folder] of Object.entries(roots)) {
      if (!path.startsWith(prefix)) continue;
      let relative = path.slice(prefix.length);
      if (relative === '' || relative.endsWith('/')) relative += 'index.html';
      const file = normalize(join(folder, relative));
      if (!file.startsWith(normalize(folder))) break;
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(body);
        return;
      } catch {
        break;
      }
    }
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
