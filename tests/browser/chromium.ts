// Headless Chromium for the browser tests: Debian's package, driven by
// playwright-core (which cannot download browsers here). Without Chromium the
// tests skip with a message, unless WEFT_REQUIRE_BROWSER=1 (set by .ci/run).

import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

const CANDIDATES = [process.env.WEFT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export const chromiumPath = CANDIDATES.find((p): p is string => !!p && existsSync(p));
export const browserRequired = process.env.WEFT_REQUIRE_BROWSER === '1';

export const SKIP_MESSAGE =
  'browser tests skipped: no Chromium found (install Debian\'s "chromium" package: ' +
  'sudo apt-get install chromium, or set WEFT_CHROMIUM=/path/to/chrome); CI sets WEFT_REQUIRE_BROWSER=1 so they cannot skip there';

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // the machine's network is closed: keep Chromium from trying to phone home
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A Chromium page on a local static server, with its errors collected. */
export interface ServedPage {
  page: import('playwright-core').Page;
  /** Base URL of the server. */
  url: string;
  /** Page errors and console errors so far (workers' uncaught errors included). */
  errors: string[];
  /** Close the browser and the server. */
  close(): Promise<void>;
}

export interface ServeOptions {
  /** URL path -> HTML served as is. */
  pages?: Record<string, string>;
  /** Headers on every response: CROSS_ORIGIN_ISOLATION for threads, a Content-Security-Policy... */
  headers?: Readonly<Record<string, string>>;
  viewport?: { width: number; height: number };
  /** The path opened (default '/'). */
  path?: string;
}

/** Serve `roots` (URL prefix -> folder) and `options.pages`, and open `options.path` in headless Chromium. */
export async function openServedPage(roots: Record<string, string>, options: ServeOptions = {}): Promise<ServedPage> {
  const { serveStatic } = await import('../../src/cli/static-server.js');
  const server = await serveStatic(roots, options.pages, { headers: options.headers });
  const browser = await launchChromium();
  const page = await browser.newPage(options.viewport ? { viewport: options.viewport } : {});
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('worker', (worker) => worker.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`worker: ${msg.text()}`);
  }));
  await page.goto(server.url + (options.path ?? '/'));
  return {
    page,
    url: server.url,
    errors,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * A page whose only content is dist/weft.iife.js loaded by a <script> tag (dist/ is served
 * at /dist/, so /dist/weft-worker.js is there too). No inline script: the page works under
 * a Content-Security-Policy without 'unsafe-inline'.
 */
export async function openIifePage(title: string, headers?: Readonly<Record<string, string>>): Promise<ServedPage> {
  const { join } = await import('node:path');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,">
<script src="/dist/weft.iife.js"></script></head><body></body></html>`;
  return openServedPage({ '/dist/': join(import.meta.dirname, '../../dist') }, { pages: { '/': html }, headers });
}

if (!chromiumPath) {
  if (browserRequired) throw new Error('WEFT_REQUIRE_BROWSER=1 but no Chromium was found');
  console.warn(SKIP_MESSAGE);
}
