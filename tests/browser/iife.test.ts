// The IIFE bundle in real headless Chromium, loaded by a <script> tag: createWeft,
// a matmul, and the result compared bit for bit with Node's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createWeft } from '../../src/index.js';
import { browserRequired, chromiumPath, launchChromium, SKIP_MESSAGE } from './chromium.js';
import { serveStatic, type StaticServer } from '../../src/cli/static-server.js';

if (!chromiumPath) {
  if (browserRequired) throw new Error('WEFT_REQUIRE_BROWSER=1 but no Chromium was found');
  console.warn(SKIP_MESSAGE);
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>weft iife</title><link rel="icon" href="data:,">
<script src="/dist/weft.iife.js"></script></head><body></body></html>`;

describe.skipIf(!chromiumPath)('weft.iife.js in Chromium', () => {
  let browser: Browser;
  let server: StaticServer;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    server = await serveStatic({ '/dist/': join(import.meta.dirname, '../../dist') }, { '/': PAGE });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(server.url + '/');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('exposes a global weft whose createWeft picks the best build', async () => {
    const features = await page.evaluate(async () => {
      const w = (window as unknown as { weft: typeof import('../../src/index.js') }).weft;
      const instance = await w.createWeft();
      return { backend: instance.backend, features: instance.features };
    });
    expect(features.backend).toBe('wasm');
    expect(features.features.simd).toBe(true);
    // Chromium has shipped relaxed SIMD by default since 114
    expect(features.features.relaxedSimd).toBe(true);
    expect(errors).toEqual([]);
  });

  for (const variant of ['simd', 'relaxed'] as const) {
    it(`a ${variant}-build matmul equals Node's bit for bit`, async () => {
      const [M, N, K] = [33, 21, 70];
      const fromBrowser = await page.evaluate(
        async ({ variant, M, N, K }) => {
          const w = (window as unknown as { weft: typeof import('../../src/index.js') }).weft;
          const weft = await w.createWeft({ simd: variant });
          const c = weft.matmul(weft.randn([M, K], 1), weft.randn([K, N], 2), { bias: weft.randn([N], 3) });
          return { shape: c.shape, bits: Array.from(new Uint32Array(c.data.buffer)) };
        },
        { variant, M, N, K },
      );
      const weft = await createWeft({ simd: variant });
      const c = weft.matmul(weft.randn([M, K], 1), weft.randn([K, N], 2), { bias: weft.randn([N], 3) });
      expect(fromBrowser.shape).toEqual([M, N]);
      expect(fromBrowser.bits).toEqual(Array.from(new Uint32Array(c.data.buffer)));
      expect(errors).toEqual([]);
    });
  }
});
