// Skip-gram training and sampled softmax in real headless Chromium (the IIFE bundle):
// the same build and seed give bit-identical vectors and gradients to Node's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWeft } from '../../src/index.js';
import { chromiumPath, openIifePage, type ServedPage } from './chromium.js';

const CORPUS = readFileSync(join(import.meta.dirname, '../../data/lee_background.cor'), 'utf8')
  .split('\n')
  .slice(0, 40)
  .map((line) => (line.toLowerCase().match(/[a-z]+/g) ?? []).join(' '))
  .join('\n');
// workers: 1: a seed gives the same vectors only on one thread (more train Hogwild)
const OPTIONS = { dim: 20, window: 4, negative: 3, minCount: 3, epochs: 2, seed: 5, workers: 1 };

type WeftModule = typeof import('../../src/index.js');

describe.skipIf(!chromiumPath)('skip-gram in Chromium', () => {
  let chromium: ServedPage;

  beforeAll(async () => {
    chromium = await openIifePage('weft skip-gram');
  });

  afterAll(async () => {
    await chromium?.close();
  });

  for (const variant of ['simd', 'relaxed'] as const) {
    it(`trains the same vectors as Node, bit for bit (${variant} build)`, async () => {
      const fromBrowser = await chromium.page.evaluate(
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
      expect(chromium.errors).toEqual([]);
    });
  }
});
