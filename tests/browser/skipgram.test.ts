// Skip-gram training and sampled softmax in real headless Chromium (the IIFE bundle):
// the same build and seed give bit-identical vectors and gradients to Node's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createWeft } from '../../src/index.js';
import { chromiumPath, launchChromium } from './chromium.js';
import { serveStatic, type StaticServer } from '../../src/cli/static-server.js';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>weft skip-gram</title><link rel="icon" href="data:,">
<script src="/dist/weft.iife.js"></script></head><body></body></html>`;

const CORPUS = readFileSync(join(import.meta.dirname, '../../data/lee_background.cor'), 'utf8')
  .split('\n')
  .slice(0, 40)
  .map((line) => (line.toLowerCase().match(/[a-z]+/g) ?? []).join(' '))
  .join('\n');
const OPTIONS = { dim: 20, window: 4, negative: 3, minCount: 3, epochs: 2, seed: 5 };

type WeftModule = typeof import('../../src/index.js');

describe.skipIf(!chromiumPath)('skip-gram in Chromium', () => {
  let browser: Browser;
  let server: StaticServer;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    server = await serveStatic({ '/dist/': join(import.meta.dirname, '../../dist') }, { '/': PAGE });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(server.url + '/');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const variant of ['simd', 'relaxed'] as const) {
    it(`trains the same vectors as Node, bit for bit (${variant} build)`, async () => {
      const fromBrowser = await page.evaluate(
        async ({ variant, corpus, options }) => {
          const w = (window as unknown as { weft: WeftModule }).weft;
          const weft = await w.createWeft({ simd: variant });
          const model = weft.skipGram(options);
          await model.train(corpus);
          const input = weft.randn([5, 20], 1), weights = weft.randn([300, 20], 2);
          const sampled = weft.softmax.sampled({ input, weights, targets: Int32Array.from([1, 2, 3, 4, 5]), numSampled: 17, seed: 3 });
          return {
            vocab: model.vocab,
            bits: Array.from(new Uint32Array(model.vectors().data.buffer)),
            dRows: Array.from(new Uint32Array(sampled.dRows.data.buffer)),
          };
        },
        { variant, corpus: CORPUS, options: OPTIONS },
      );
      const weft = await createWeft({ simd: variant });
      const model = weft.skipGram(OPTIONS);
      await model.train(CORPUS);
      const input = weft.randn([5, 20], 1), weights = weft.randn([300, 20], 2);
      const sampled = weft.softmax.sampled({ input, weights, targets: Int32Array.from([1, 2, 3, 4, 5]), numSampled: 17, seed: 3 });
      expect(fromBrowser.vocab).toEqual(model.vocab);
      expect(fromBrowser.bits).toEqual(Array.from(new Uint32Array(model.vectors().data.buffer)));
      expect(fromBrowser.dRows).toEqual(Array.from(new Uint32Array(sampled.dRows.data.buffer)));
      expect(errors).toEqual([]);
    });
  }
});
