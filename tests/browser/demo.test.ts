// The demo page in real headless Chromium, served as `weft demo` serves it (cross-origin
// isolated): every panel runs without console errors, the numbers it shows match the API,
// the thread bar shows the threads in use and switches between one and every core
// (rerunning the panels on a new instance, the old one's workers ended), and a screenshot
// is kept as a test artifact (test-artifacts/demo.png). Without the isolation headers the
// page runs on one thread and says why.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CROSS_ORIGIN_ISOLATION } from '../../src/cli/static-server.js';
import { chromiumPath, openServedPage, type ServedPage } from './chromium.js';

const root = join(import.meta.dirname, '../..');

describe.skipIf(!chromiumPath)('demo page in Chromium', () => {
  let chromium: ServedPage;
  let page: Page;
  let errors: string[];
  /** The text of a result cell: key "<row>.<column>" inside table `table` (rnn2d, attention, softmax). */
  const cell = (table: string, key: string) => page.locator(`#${table}-result [data-key="${key}"]`).innerText();
  const num = async (table: string, key: string) => Number((await cell(table, key)).replace(/,/g, ''));

  beforeAll(async () => {
    // dist/ as `weft demo` serves it: the page at /demo/, the library bundle beside it
    chromium = await openServedPage({ '/': join(root, 'dist') }, {
      headers: CROSS_ORIGIN_ISOLATION,
      viewport: { width: 1100, height: 1800 },
      path: '/demo/',
    });
    ({ page, errors } = chromium);
    await page.waitForFunction(() => window.weftDemoReady === true, undefined, { timeout: 100_000 });
  });

  afterAll(async () => {
    await chromium?.close();
  });

  it('runs every panel without errors and keeps a screenshot', async () => {
    expect(errors).toEqual([]);
    await expect(page.locator('#status').innerText()).resolves.toMatch(/backend wasm, relaxed SIMD/);
    mkdirSync(join(root, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'test-artifacts/demo.png'), fullPage: true });
  });

  it('2D-RNN panel: counts come from the API, timings are real', async () => {
    const expected = await page.evaluate(async () => {
      const weft = await window.weft.createWeft({ threads: 1 });
      const [n, c, h] = [32, 3, 32];
      let convParams = 0;
      for (let l = 0; l < n - 1; l++) {
        convParams += weft.conv2d.paramCount({ inputChannels: l === 0 ? c : h, outChannels: h, kernel: [3, 3], bias: true });
      }
      return {
        rnnParams: weft.rnn2d.paramCount({ inputChannels: c, hidden: h, bias: true }),
        rnnGflop: weft.rnn2d.flops({ batch: 1, height: n, width: n, inputChannels: c, hidden: h }) / 1e9,
        convParams,
      };
    });
    expect(expected.rnnParams).toBe(32 * 3 + 2 * 32 * 32 + 32);
    expect(await num('rnn2d', 'rnn.params')).toBe(expected.rnnParams);
    expect(await num('rnn2d', 'conv.params')).toBe(expected.convParams);
    expect(await num('rnn2d', 'rnn.gflop')).toBeCloseTo(expected.rnnGflop, 3);
    expect(await cell('rnn2d', 'conv.rf')).toBe('63×63');
    expect(await num('rnn2d', 'rnn.ms')).toBeGreaterThan(0);
    expect(await num('rnn2d', 'conv.ms')).toBeGreaterThan(0);
  });

  it('attention panel: four kernels timed, windowed/linear differ from full by a finite amount', async () => {
    for (const key of ['full', 'windowed', 'elu1', 'favor']) expect(await num('attention', `${key}.ms`)).toBeGreaterThan(0);
    expect(await num('attention', 'full.diff')).toBe(0);
    // the page's inputs make attention local: a 257-key window is close to exact, while linear
    // attention (a different kernel, not an approximation of softmax at 256 features) is not
    const windowedDiff = await num('attention', 'windowed.diff');
    expect(windowedDiff).toBeGreaterThan(0);
    expect(windowedDiff).toBeLessThan(0.3);
    for (const key of ['elu1', 'favor']) {
      const diff = await num('attention', `${key}.diff`);
      expect(diff).toBeGreaterThan(windowedDiff);
      expect(diff).toBeLessThan(3);
    }
    // a window that covers all T is exact: re-run the panel with window = T
    await page.fill('#attention-form input[name=window]', '1024');
    await page.click('#attention-form button');
    await expect.poll(() => cell('attention', 'windowed.kernel')).toBe('windowed [1024, 1024]');
    expect(await num('attention', 'windowed.diff')).toBeLessThan(1e-5);
  });

  it('skip-gram panel: the full softmax touches V rows, sampling far fewer, and the trained model answers', async () => {
    expect(await num('softmax', 'full.rows')).toBe(10000);
    expect(await num('softmax', 'sampled.rows')).toBeLessThanOrEqual(64 + 64);
    expect(await num('softmax', 'negative.rows')).toBeLessThanOrEqual(64 * 6);
    expect(await num('softmax', 'sampled.speedup')).toBeGreaterThan(1);
    await expect(page.locator('#train-status').innerText()).resolves.toMatch(/^trained: /);
    const neighbours = await page.locator('#neighbours li').allInnerTexts();
    expect(neighbours).toHaveLength(8);
    // a word the user types is shown as text, never parsed as markup
    await page.fill('#neighbours-form input[name=word]', '<img src=x>');
    await page.locator('#neighbours-form input[name=word]').press('Enter');
    await expect.poll(() => page.locator('#neighbours li').allInnerTexts()).toEqual(['"<img src=x>" is not in the vocabulary']);
    expect(await page.locator('#neighbours img').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('training panel: the three models train live, one row an epoch, accuracies between 0 and 100%', async () => {
    await page.fill('#grid-train-form input[name=n]', '6');
    await page.fill('#grid-train-form input[name=epochs]', '2');
    await page.click('#grid-train-form button');
    await expect.poll(() => page.locator('#grid-train-status').innerText(), { timeout: 60_000 }).toBe('done');
    const rows = await page.locator('#grid-train-result tbody tr').evaluateAll((all) => all.map((r) => Array.from(r.children).map((c) => c.textContent ?? '')));
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['2D-RNN tanh', '1'], ['2D-RNN tanh', '2'], ['2D-RNN MD-LSTM', '1'], ['2D-RNN MD-LSTM', '2'], ['2 x conv 3x3 (tanh)', '1'], ['2 x conv 3x3 (tanh)', '2'],
    ]);
    for (const row of rows) {
      const accuracy = Number(row[3].replace('%', ''));
      expect(accuracy).toBeGreaterThanOrEqual(0);
      expect(accuracy).toBeLessThanOrEqual(100);
      expect(Number(row[2])).toBeGreaterThan(0);
    }
    expect(errors).toEqual([]);
  });

  it('thread bar: every core in use, and a switch to 1 thread and back reruns every panel on a new instance', async () => {
    const cores = await page.evaluate(() => Math.min(64, navigator.hardwareConcurrency));
    expect(cores, 'the machine has one core: nothing to switch').toBeGreaterThan(1);
    const status = page.locator('#threads-status');
    const tables = page.locator('table.result:not(.training)');
    const showsThreads = async (threads: number) => {
      expect(await status.getAttribute('data-threads')).toBe(String(threads));
      expect(await page.locator('#threads-matmul').getAttribute('data-threads')).toBe(String(threads));
      expect(Number(await page.locator('#threads-matmul').getAttribute('data-ms'))).toBeGreaterThan(0);
      expect(await tables.evaluateAll((all) => all.map((t) => (t as HTMLElement).dataset.threads))).toEqual([String(threads), String(threads), String(threads)]);
      await expect(page.locator('#train-status').innerText()).resolves.toMatch(/^trained: /);
      await expect.poll(() => page.locator('#neighbours li').count()).toBe(8);
    };
    // the workers of the instance in use: a supervisor and cores - 1 threads (a disposed
    // pool's supervisor ends a second after the pool)
    const workers = () => page.workers().length;
    const settled = { timeout: 10_000 };
    // the model is retrained after a switch and answers the word in the box
    await page.fill('#neighbours-form input[name=word]', 'government');
    await page.locator('#neighbours-form input[name=word]').press('Enter');

    await expect(status.innerText()).resolves.toBe(`${cores} threads in use: this page's and ${cores - 1} worker${cores > 2 ? 's' : ''}`);
    await showsThreads(cores);
    await expect.poll(workers, settled).toBe(cores);

    await page.check('#threads-form input[value="1"]');
    await page.waitForFunction(() => window.weftDemoReady === true, undefined, { timeout: 100_000 });
    await expect(status.innerText()).resolves.toBe('1 thread in use, as chosen');
    await showsThreads(1);
    await expect.poll(workers, settled).toBe(0);

    await page.check('#threads-form input[value="auto"]');
    await page.waitForFunction(() => window.weftDemoReady === true, undefined, { timeout: 100_000 });
    await showsThreads(cores);
    await expect.poll(workers, settled).toBe(cores);
    expect(errors).toEqual([]);
  });
});

describe.skipIf(!chromiumPath)('demo page without cross-origin isolation', () => {
  it('runs on one thread and says which headers threads need', async () => {
    const chromium = await openServedPage({ '/': join(root, 'dist') }, { path: '/demo/' });
    try {
      const status = chromium.page.locator('#threads-status[data-threads]');
      await status.waitFor({ timeout: 100_000 });
      expect(await status.getAttribute('data-threads')).toBe('1');
      const text = await status.innerText();
      expect(text).toMatch(/^1 thread in use: this page is not cross-origin isolated/);
      expect(text).toContain('Cross-Origin-Opener-Policy: same-origin');
      expect(text).toContain('Cross-Origin-Embedder-Policy: require-corp');
      await chromium.page.waitForFunction(() => window.weftDemoReady === true, undefined, { timeout: 100_000 });
      expect(await chromium.page.locator('#threads-matmul').getAttribute('data-threads')).toBe('1');
      expect(chromium.errors).toEqual([]);
    } finally {
      await chromium.close();
    }
  });
});
