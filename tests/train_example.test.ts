// The trained-comparison example (examples/grid/): its data, Adam, the models' gradients
// (through weft's backward passes, the pooling and the readout) against finite
// differences, and one epoch giving the same loss on every backend.

import { beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { createWeft, type Weft } from '../src/index.js';
import { Adam } from '../examples/grid/adam.js';
import { makeDiagonals, parseDigits, subset } from '../examples/grid/data.js';
import { type Model, convStack, fourOriginRnn } from '../examples/grid/models.js';
import { train } from '../examples/grid/train.js';
import { comparisonModels, digitsTask } from '../examples/grid/compare.js';
import { backendsUnderTest, expectClose } from './helpers.js';

describe('trained comparison: data and optimiser', () => {
  it('parses the shipped digits: 1,797 images of 64 pixels in [0, 1], labels 0-9, ~180 of each', () => {
    const digits = parseDigits(gunzipSync(readFileSync(new URL('../data/digits.csv.gz', import.meta.url))).toString());
    expect(digits.count).toBe(1797);
    expect(digits.images.length).toBe(1797 * 64);
    expect(Math.max(...digits.images)).toBe(1);
    const perClass = new Array(10).fill(0);
    for (const label of digits.labels) perClass[label]++;
    expect(Math.min(...perClass)).toBeGreaterThan(170);
    expect(() => parseDigits('1,2,3\n')).toThrow(/line 1/);
  });

  it('diagonals: two marks in different rows and columns, the label is their diagonal, balanced and seeded', () => {
    const size = 9;
    const data = makeDiagonals(200, size, 3);
    for (let n = 0; n < data.count; n++) {
      const marks: [number, number][] = [];
      for (let p = 0; p < size * size; p++) if (data.images[n * size * size + p] === 1) marks.push([Math.floor(p / size), p % size]);
      expect(marks.length).toBe(2);
      const [[ia, ja], [ib, jb]] = marks;
      expect(ia !== ib && ja !== jb).toBe(true);
      expect(data.labels[n]).toBe((ia - ib) * (ja - jb) > 0 ? 1 : 0);
    }
    expect(data.labels.reduce((s, l) => s + l, 0)).toBe(100);
    expect(makeDiagonals(200, size, 3).images).toEqual(data.images);
    expect(makeDiagonals(200, size, 4).images).not.toEqual(data.images);
  });

  it("Adam's first step moves each parameter by lr against its gradient's sign, as torch.optim.Adam", () => {
    const p = Float32Array.of(1, -2, 0.5);
    const adam = new Adam([p], 0.1);
    adam.update([Float32Array.of(3, -0.001, 0)]);
    // m̂ = g, v̂ = g²: the step is lr g / (|g| + eps), eps = 1e-8 (a 1e-5 part of the step at |g| = 1e-3)
    const small = (0.1 * 0.001) / (0.001 + 1e-8);
    expectClose(p, [0.9, -2 + small, 0.5], { atol: 1e-7, rtol: 0 }, 'after one step');
    adam.update([Float32Array.of(3, -0.001, 0)]);
    expectClose(p, [0.8, -2 + 2 * small, 0.5], { atol: 1e-7, rtol: 0 }, 'after two equal steps');
  });
});

describe.each(backendsUnderTest())('trained comparison models on $label', ({ create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  /** Central differences of the batch loss for a few entries of each parameter array (f32 forward: eps 1e-2). */
  function checkGradients(model: Model, batch: ReturnType<typeof subset>) {
    const x = { data: batch.images, shape: [batch.count, batch.height, batch.width, batch.channels] };
    const { grads } = model.step(x, batch.labels);
    const lossAt = () => {
      const logits = model.logits(x);
      return weft.softmax.crossEntropy({ logits, targets: batch.labels }).loss;
    };
    model.params.forEach((param, k) => {
      for (const index of [0, Math.floor(param.length / 2), param.length - 1]) {
        const v = param[index], eps = 1e-2;
        param[index] = v + eps;
        const up = lossAt();
        param[index] = v - eps;
        const down = lossAt();
        param[index] = v;
        const fd = (up - down) / (2 * eps);
        expect(Math.abs(grads[k][index] - fd), `param ${k}[${index}]: ${grads[k][index]} vs ${fd}`).toBeLessThan(2e-3 + 0.02 * Math.abs(fd));
      }
    });
  }

  it('gradients of the 4-origin RNNs and the conv stack match finite differences of the loss', () => {
    const data = makeDiagonals(6, 5, 11);
    const batch = subset(data, Int32Array.from({ length: 6 }, (_, i) => i), 0, 6);
    const grid = { height: 5, width: 5, channels: 1, classes: 2 };
    checkGradients(fourOriginRnn(weft, grid, 3, 'rnn', 1), batch);
    checkGradients(fourOriginRnn(weft, grid, 3, 'lstm', 2), batch);
    checkGradients(convStack(weft, grid, 2, 4, 3), batch);
  });

  it('one epoch on a fixed seed gives the JS backend\'s loss and accuracy', async () => {
    const js = await createWeft({ backend: 'js' });
    const task = digitsTask(gunzipSync(readFileSync(new URL('../data/digits.csv.gz', import.meta.url))).toString());
    const small = { ...task, train: subset(task.train, Int32Array.from({ length: 128 }, (_, i) => i), 0, 128) };
    const run = async (w: Weft) =>
      Promise.all(comparisonModels(w, small, 5).map((model) => train(model, small.train, small.test, { epochs: 1, batchSize: 32, lr: small.lr, seed: 5 })));
    const [mine, reference] = [await run(weft), await run(js)];
    mine.forEach((history, k) => {
      expect(Math.abs(history[0].trainLoss - reference[k][0].trainLoss), `model ${k} loss`).toBeLessThan(1e-4);
      // a test image whose two largest logits differ by float rounding could flip: allow one
      expect(Math.abs(history[0].testAccuracy - reference[k][0].testAccuracy) * small.test.count, `model ${k} accuracy`).toBeLessThanOrEqual(1);
      expect(history[0].trainLoss).toBeGreaterThan(1.5); // ten classes after four steps: still near ln 10
    });
  });
});
