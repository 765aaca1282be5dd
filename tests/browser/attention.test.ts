// weft.attention in real headless Chromium (the IIFE bundle): the same build and
// seed give Node's bits, FAVOR+ features (built in JS from the seeded generator)
// included.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Weft } from '../../src/index.js';
import { chromiumPath, openIifePage, type ServedPage } from './chromium.js';

/** The calls compared, as bit patterns; runs in Node and, serialised, in the page. */
function attentionBits(weft: Weft): number[][] {
  const bits = (data: Float32Array) => Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
  const q = weft.randn([1, 4, 37, 8], 1), k = weft.randn([1, 2, 37, 8], 2), v = weft.randn([1, 2, 37, 5], 3);
  const dout = weft.randn([1, 4, 37, 5], 4);
  const window: [number, number] = [6, 3];
  return [
    bits(weft.attention.full({ q, k, v, causal: true }).out.data),
    bits(weft.attention.windowed({ q, k, v, window, dilation: 2, globalTokens: Int32Array.from([3]) }).lse.data),
    bits(weft.attention.windowedBackward({ q, k, v, window, dout }).dk.data),
    bits(weft.attention.linear({ q, k, v, causal: true, featureMap: 'favor', numFeatures: 24, seed: 9 }).out.data),
    bits(weft.attention.linearBackward({ q, k, v, dout, featureMap: 'elu1' }).dq.data),
  ];
}

describe.skipIf(!chromiumPath)('weft.attention in Chromium', () => {
  let chromium: ServedPage;

  beforeAll(async () => {
    chromium = await openIifePage('weft attention');
  });

  afterAll(async () => {
    await chromium?.close();
  });

  for (const variant of ['simd', 'relaxed'] as const) {
    it(`full, windowed, linear (FAVOR+) and their gradients equal Node's bit for bit on the ${variant} build`, async () => {
      const fromBrowser = await chromium.page.evaluate(
        async ({ variant, body }) => {
          const w = (window as unknown as { weft: typeof import('../../src/index.js') }).weft;
          const weft = await w.createWeft({ simd: variant });
          return (new Function('weft', `return (${body})(weft)`) as (weft: unknown) => number[][])(weft);
        },
        { variant, body: attentionBits.toString() },
      );
      const fromNode = attentionBits(await createWeft({ simd: variant }));
      expect(fromNode.map((b) => b.length)).toEqual([4 * 37 * 5, 4 * 37, 2 * 37 * 8, 4 * 37 * 5, 4 * 37 * 8]);
      expect(fromBrowser).toEqual(fromNode);
      expect(chromium.errors).toEqual([]);
    });
  }
});
