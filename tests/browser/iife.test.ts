// The IIFE bundle in real headless Chromium, loaded by a <script> tag: createWeft,
// a matmul, and the result compared bit for bit with Node's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWeft } from '../../src/index.js';
import { chromiumPath, openIifePage, openServedPage, type ServedPage } from './chromium.js';

describe.skipIf(!chromiumPath)('weft.iife.js in Chromium', () => {
  let chromium: ServedPage;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    chromium = await openIifePage('weft iife');
    ({ page, errors } = chromium);
  });

  afterAll(async () => {
    await chromium?.close();
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

  it("the README's browser example runs as written (the bundle from a <script> tag, then a module script)", async () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const example = /```html\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain('<script src="weft.iife.js">');
    const served = await openServedPage({ '/': join(import.meta.dirname, '../../dist/') }, {
      // the icon link keeps Chromium from asking for /favicon.ico (a 404 in errors)
      pages: { '/readme.html': `<link rel="icon" href="data:,">\n${example}` }, path: '/readme.html',
    });
    try {
      await served.page.waitForFunction(() => document.title.startsWith('weft: '), undefined, { timeout: 30_000 });
      expect(await served.page.title()).toBe('weft: 1 thread(s)');
      expect(served.errors).toEqual([]);
    } finally {
      await served.close();
    }
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
