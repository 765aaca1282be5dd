// The demo page: three panels that answer "what do the kernels buy me?" live,
// using only the public API of the IIFE bundle (window.weft), on one thread or on
// every core (the thread bar at the top recreates the weft instance and reruns them).

import type { Tensor, Weft } from '../src/index.js';
import { diagonalsTask, runTask } from '../examples/grid/compare.js';

type WeftModule = typeof import('../src/index.js');
declare global {
  interface Window {
    weft: WeftModule;
    /** Set when every panel has run on the current weft instance (false while switching threads; the browser test waits for it). */
    weftDemoReady?: boolean;
  }
}

const $ = <T extends Element>(selector: string): T => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`demo: missing element ${selector}`);
  return el;
};

/**
 * Median ms per call over at least `runs` samples (more, up to 25, while the total stays
 * under 250 ms), after two warm-up calls: the browser first runs WASM in its baseline tier
 * and swaps in optimised code a few calls later. A sample repeats the call until it spans
 * at least 2 ms, because pages that are not cross-origin isolated get performance.now()
 * in 100 µs steps, which would time a 50 µs call as 0 or 100 µs.
 */
function timeMedian<T>(fn: () => T, runs = 3): { ms: number; result: T } {
  let result = fn();
  let t0 = performance.now();
  result = fn();
  let reps = 1;
  // calls per sample: double until one sample spans MIN_SAMPLE_MS
  while (performance.now() - t0 < MIN_SAMPLE_MS && reps < 1 << 16) {
    reps *= 2;
    t0 = performance.now();
    for (let r = 0; r < reps; r++) result = fn();
  }
  const times: number[] = [];
  let total = 0;
  while (times.length < runs || (total < 250 && times.length < 25)) {
    t0 = performance.now();
    for (let r = 0; r < reps; r++) result = fn();
    const ms = performance.now() - t0;
    times.push(ms / reps);
    total += ms;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], result };
}

const MIN_SAMPLE_MS = 2;

const fmt = (v: number, digits = 3): string =>
  !Number.isFinite(v) ? '-' : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(digits);

/** An element with text content (never parsed as HTML). */
function element<K extends keyof HTMLElementTagNameMap>(tag: K, text = '', className = ''): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Fill a table measured on `weft`; each cell gets data-key="<row key>.<column key>" so tests
 * can read it, and the table data-threads and a caption with the threads it ran on.
 */
function fillTable(
  table: HTMLTableElement,
  weft: Weft,
  columns: [string, string][],
  rows: { key: string; cells: (string | number)[] }[],
): void {
  table.dataset.threads = String(weft.features.threads);
  const caption = element('caption', `measured on ${plural(weft.features.threads, 'thread')}`);
  const head = element('tr');
  for (const [, title] of columns) head.append(element('th', title));
  const body = rows.map((row) => {
    const tr = element('tr');
    row.cells.forEach((cell, i) => {
      const td = element('td', typeof cell === 'number' ? fmt(cell) : cell);
      td.dataset.key = `${row.key}.${columns[i][0]}`;
      tr.append(td);
    });
    return tr;
  });
  table.replaceChildren(caption, head, ...body);
}

function formInt(form: HTMLFormElement, name: string): number {
  return Math.max(1, Math.round(Number((form.elements.namedItem(name) as HTMLInputElement).value)));
}

/** randn scaled by `scale` (weights need 1/sqrt(fan-in) to keep tanh out of saturation). */
function scaled(weft: Weft, shape: number[], seed: number, scale: number): Tensor {
  const t = weft.randn(shape, seed);
  for (let i = 0; i < t.data.length; i++) t.data[i] *= scale;
  return t;
}

function relativeDifference(a: Float32Array, reference: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - reference[i]) ** 2;
    den += reference[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

// ---- panel 1: 2D-RNN vs conv stack -------------------------------------------------------

function runRnn2d(weft: Weft): void {
  const form = $<HTMLFormElement>('#rnn2d-form');
  const n = formInt(form, 'n'), c = formInt(form, 'c'), h = formInt(form, 'h'), batch = formInt(form, 'batch');
  const x = weft.randn([batch, n, n, c], 1);
  const wIn = scaled(weft, [h, c], 2, 1 / Math.sqrt(c));
  const wLeft = scaled(weft, [h, h], 3, 0.5 / Math.sqrt(h));
  const wTop = scaled(weft, [h, h], 4, 0.5 / Math.sqrt(h));
  const bias = weft.zeros([h]);
  const rnnParams = weft.rnn2d.paramCount({ inputChannels: c, hidden: h, bias: true });
  const rnnFlops = weft.rnn2d.flops({ batch, height: n, width: n, inputChannels: c, hidden: h });
  const rnn = timeMedian(() => weft.rnn2d.forward({ x, wIn, wLeft, wTop, bias }));

  // 3x3 'same' convs: layer l sees (2l+1)^2, so n-1 layers cover the n x n quadrant the RNN sees.
  const layers = Math.max(1, n - 1);
  let convParams = 0, convFlops = 0;
  const convWeights: Tensor[] = [];
  for (let l = 0; l < layers; l++) {
    const cin = l === 0 ? c : h;
    convParams += weft.conv2d.paramCount({ inputChannels: cin, outChannels: h, kernel: [3, 3], bias: true });
    convFlops += weft.conv2d.flops({ batch, height: n, width: n, inputChannels: cin, outChannels: h, kernel: [3, 3] });
    convWeights.push(scaled(weft, [h, 3, 3, cin], 10 + l, 1 / Math.sqrt(9 * cin)));
  }
  const conv = timeMedian(() => {
    let y = x;
    for (const w of convWeights) y = weft.conv2d.forward({ x: y, w, bias, padding: 'same', activation: 'relu' }).y;
    return y;
  }, 1);
  const rf = 2 * layers + 1;
  fillTable(
    $<HTMLTableElement>('#rnn2d-result'),
    weft,
    [['model', 'model'], ['params', 'parameters'], ['gflop', 'GFLOP / forward'], ['rf', 'receptive field'], ['ms', 'forward ms'], ['gflops', 'GFLOP/s']],
    [
      { key: 'rnn', cells: ['2D-RNN (1 layer)', rnnParams, rnnFlops / 1e9, `${n}×${n} quadrant`, rnn.ms, rnnFlops / (rnn.ms * 1e6)] },
      { key: 'conv', cells: [`3×3 conv × ${layers}`, convParams, convFlops / 1e9, `${rf}×${rf}`, conv.ms, convFlops / (conv.ms * 1e6)] },
    ],
  );
}

// ---- panel 2: attention ------------------------------------------------------------------

/**
 * [1, H, T, d] vectors that drift slowly along T (AR(1), correlation rho between neighbours),
 * like token representations of real text: nearby positions are similar, so attention is
 * mostly local and the approximations have something to get right. i.i.d. noise would make
 * every key equally (ir)relevant.
 */
function drifting(weft: Weft, H: number, T: number, d: number, seed: number, rho: number, scale: number): Tensor {
  const t = weft.randn([1, H, T, d], seed);
  const keep = Math.sqrt(1 - rho * rho);
  for (let h = 0; h < H; h++) {
    for (let i = 1; i < T; i++) {
      const row = (h * T + i) * d, prev = row - d;
      for (let j = 0; j < d; j++) t.data[row + j] = rho * t.data[prev + j] + keep * t.data[row + j];
    }
  }
  for (let i = 0; i < t.data.length; i++) t.data[i] *= scale;
  return t;
}

function runAttention(weft: Weft): void {
  const form = $<HTMLFormElement>('#attention-form');
  const T = 2 ** Number((form.elements.namedItem('T') as HTMLInputElement).value);
  const window = formInt(form, 'window');
  const causal = (form.elements.namedItem('causal') as HTMLInputElement).checked;
  const H = 4, d = 64;
  // tied query/key projection (k = q): each token attends mostly to its neighbourhood
  const q = drifting(weft, H, T, d, 1, 0.98, 1), k = q;
  const v = drifting(weft, H, T, d, 3, 0.9, 1);
  const runs = T >= 4096 ? 1 : 3;
  const full = timeMedian(() => weft.attention.full({ q, k, v, causal }).out, runs);
  const windowed = timeMedian(() => weft.attention.windowed({ q, k, v, causal, window: [window, causal ? 0 : window] }).out, runs);
  const elu = timeMedian(() => weft.attention.linear({ q, k, v, causal, featureMap: 'elu1' }).out, runs);
  const favor = timeMedian(() => weft.attention.linear({ q, k, v, causal, featureMap: 'favor', numFeatures: 256, seed: 1 }).out, runs);
  const row = (key: string, name: string, r: { ms: number; result: Tensor }) => ({
    key,
    cells: [name, r.ms, full.ms / r.ms, relativeDifference(r.result.data, full.result.data)],
  });
  fillTable(
    $<HTMLTableElement>('#attention-result'),
    weft,
    [['kernel', `kernel (T = ${T})`], ['ms', 'ms'], ['speedup', '× faster than full'], ['diff', '‖out − full‖ / ‖full‖']],
    [
      row('full', 'full (exact)', full),
      row('windowed', `windowed [${window}, ${causal ? 0 : window}]`, windowed),
      row('elu1', 'linear, elu+1', elu),
      row('favor', 'linear, FAVOR+ 256', favor),
    ],
  );
}

// ---- panel 3: softmax gradients and a trained model -------------------------------------

function runSoftmax(weft: Weft): void {
  const form = $<HTMLFormElement>('#softmax-form');
  const V = Number((form.elements.namedItem('V') as HTMLSelectElement).value);
  const N = 64, h = 128;
  const input = scaled(weft, [N, h], 1, 0.1);
  const weights = scaled(weft, [V, h], 2, 0.1);
  const targets = new Int32Array(N).map((_, i) => (i * 7919) % V);
  // a Zipf-shaped vocabulary: the unigram^0.75 noise distribution of word2vec needs counts
  const counts = Float64Array.from({ length: V }, (_, i) => Math.round(1e7 / (i + 1)));
  const full = timeMedian(() => weft.softmax.full({ input, weights, targets }), V >= 100000 ? 1 : 3);
  const sampled = timeMedian(() => weft.softmax.sampled({ input, weights, targets, numSampled: 64, seed: 1 }));
  const negative = timeMedian(() => weft.softmax.negativeSampling({ input, weights, targets, negative: 5, counts, seed: 1 }));
  fillTable(
    $<HTMLTableElement>('#softmax-result'),
    weft,
    [['loss', `gradient (V = ${V.toLocaleString('en-US')})`], ['ms', 'ms'], ['speedup', '× faster than full'], ['rows', 'weight rows touched']],
    [
      { key: 'full', cells: ['full softmax', full.ms, 1, V] },
      { key: 'sampled', cells: ['sampled softmax, 64 samples', sampled.ms, full.ms / sampled.ms, sampled.result.rows.length] },
      { key: 'negative', cells: ['negative sampling, k = 5', negative.ms, full.ms / negative.ms, negative.result.rows.length] },
    ],
  );
}

type SkipGramModel = ReturnType<Weft['skipGram']>;
let model: SkipGramModel | undefined;

async function train(weft: Weft): Promise<void> {
  const form = $<HTMLFormElement>('#train-form');
  const dim = formInt(form, 'dim'), epochs = formInt(form, 'epochs');
  const status = $<HTMLSpanElement>('#train-status');
  const bar = $<HTMLProgressElement>('#train-progress');
  status.textContent = 'fetching lee_background.cor…';
  const raw = await (await fetch('lee_background.cor')).text();
  // gensim's simple_preprocess in spirit: lowercase letter runs, one document per line
  const corpus = raw
    .split('\n')
    .map((line) => (line.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? []).join(' '))
    .join('\n');
  const next = weft.skipGram({ dim, window: 5, negative: 5, minCount: 3, sample: 1e-3, epochs, seed: 1 });
  next.buildVocab(corpus);
  const t0 = performance.now();
  let last = { wordsPerSec: 0, loss: NaN };
  await next.train(corpus, {
    onProgress(p) {
      bar.value = p.progress;
      last = p;
      status.textContent = `epoch ${p.epoch}, ${Math.round(p.wordsPerSec).toLocaleString('en-US')} words/s, loss ${fmt(p.loss)}`;
    },
  });
  model?.dispose();
  model = next;
  bar.value = 1;
  status.textContent =
    `trained: ${next.vocab.length.toLocaleString('en-US')} words, ${epochs} epochs in ${fmt((performance.now() - t0) / 1000)} s ` +
    `(${Math.round(last.wordsPerSec).toLocaleString('en-US')} words/s, loss ${fmt(last.loss)})`;
  showNeighbours();
}

/** Train the comparison's models on the diagonals task, one table row per epoch as it comes. */
async function trainGrid(weft: Weft): Promise<void> {
  const form = $<HTMLFormElement>('#grid-train-form');
  const n = formInt(form, 'n'), epochs = formInt(form, 'epochs');
  const status = $<HTMLSpanElement>('#grid-train-status');
  const table = $<HTMLTableElement>('#grid-train-result');
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const title of ['model', 'epoch', 'train loss', 'test accuracy', 'training s']) head.append(element('th', title));
  const body = table.createTBody();
  const task = diagonalsTask(n, 1000, epochs);
  await runTask(weft, task, {
    async onEpoch(model, r) {
      const row = body.insertRow();
      row.dataset.model = model.split(',')[0];
      for (const text of [model.split(',')[0], String(r.epoch), fmt(r.trainLoss), `${(100 * r.testAccuracy).toFixed(1)}%`, fmt(r.seconds)]) row.append(element('td', text));
      status.textContent = `${model.split(',')[0]}: epoch ${r.epoch} of ${epochs}`;
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the page repaint
    },
  });
  status.textContent = 'done';
}

function showNeighbours(): void {
  const list = $<HTMLOListElement>('#neighbours');
  const word = ($<HTMLInputElement>('#neighbours-form input[name=word]').value || '').trim().toLowerCase();
  if (!model) {
    list.replaceChildren(element('li', 'train a model first'));
    return;
  }
  if (!model.vector(word)) {
    // the word is user input: shown as text, never as markup
    list.replaceChildren(element('li', `"${word}" is not in the vocabulary`));
    return;
  }
  list.replaceChildren(
    ...model.mostSimilar(word, 8).map(([w, cos]) => {
      const item = element('li');
      item.append(element('span', w, 'word'), ' ', element('span', cos.toFixed(3), 'cos'));
      return item;
    }),
  );
}

// ---- threads ----------------------------------------------------------------------------

type ThreadsChoice = 1 | 'auto';

/** The instance every panel runs on; replaced (and the old one disposed) when the thread choice changes. */
let current: Weft | undefined;

/** Show the threads `weft` runs on, and why only one when 'auto' could not use more. */
function showThreads(weft: Weft, choice: ThreadsChoice): void {
  const { threads, threadsReason } = weft.features;
  const status = $<HTMLSpanElement>('#threads-status');
  status.dataset.threads = String(threads);
  status.className = threads === 1 && choice === 'auto' ? 'warn' : '';
  // the reason comes from the library; set as text like everything else
  status.textContent =
    threads > 1 ? `${threads} threads in use: this page's and ${plural(threads - 1, 'worker')}`
    : choice === 1 ? '1 thread in use, as chosen'
    : `1 thread in use: ${threadsReason ?? 'no reason given'}`;
}

/** The reference timing of the thread bar: a product large enough to split over every thread. */
function runMatmul(weft: Weft): void {
  const n = 512;
  const a = weft.randn([n, n], 1), b = weft.randn([n, n], 2);
  const { ms } = timeMedian(() => weft.matmul(a, b));
  const out = $<HTMLSpanElement>('#threads-matmul');
  out.dataset.ms = String(ms);
  out.dataset.threads = String(weft.features.threads);
  out.textContent = `${fmt(ms)} ms (${fmt((2 * n ** 3) / (ms * 1e6))} GFLOP/s) on ${plural(weft.features.threads, 'thread')}`;
}

// ---- wiring -------------------------------------------------------------------------------

function showError(err: unknown): void {
  const status = $<HTMLSpanElement>('#status');
  status.textContent = `error: ${(err as Error).message}`;
  status.className = 'error';
  console.error(err);
}

let queue: Promise<void> = Promise.resolve();

/**
 * An event handler that runs `fn` once every earlier action has finished (so a thread switch
 * never disposes the instance under a running panel: training awaits between batches) and
 * shows its error in the status line.
 */
function action(fn: () => void | Promise<void>): (event?: Event) => Promise<void> {
  return (event) => {
    event?.preventDefault();
    queue = queue.then(fn).catch(showError);
    return queue;
  };
}

const instance = (): Weft => {
  if (!current) throw new Error('demo: no weft instance');
  return current;
};

/** Every panel once, on the current instance (on arrival and after a thread switch); one that fails does not stop the rest. */
async function runPanels(): Promise<void> {
  const weft = instance();
  for (const panel of [runMatmul, runRnn2d, runAttention, runSoftmax, train]) {
    try {
      await panel(weft);
    } catch (err) {
      showError(err);
    }
  }
  window.weftDemoReady = true;
}

/** Recreate the instance on `choice` threads, dispose the old one (and the model in its memory), rerun every panel. */
async function useThreads(choice: ThreadsChoice): Promise<void> {
  const fieldset = $<HTMLFieldSetElement>('#threads-form fieldset');
  fieldset.disabled = true;
  try {
    $<HTMLSpanElement>('#threads-status').textContent = 'starting…';
    const next = await window.weft.createWeft({ threads: choice });
    model?.dispose();
    model = undefined;
    current?.dispose();
    current = next;
    const status = $<HTMLSpanElement>('#status');
    status.textContent = `backend ${next.backend}, ${next.features.relaxedSimd ? 'relaxed SIMD' : 'SIMD'}`;
    status.className = '';
    showThreads(next, choice);
    await runPanels();
  } finally {
    fieldset.disabled = false;
  }
}

async function main(): Promise<void> {
  $<HTMLSpanElement>('#cores').textContent = `(${navigator.hardwareConcurrency || 1})`;
  const tOut = $<HTMLOutputElement>('#attention-form output[name=Tout]');
  const tInput = $<HTMLInputElement>('#attention-form input[name=T]');
  tInput.addEventListener('input', () => (tOut.value = String(2 ** Number(tInput.value))));
  $('#rnn2d-form').addEventListener('submit', action(() => runRnn2d(instance())));
  $('#attention-form').addEventListener('submit', action(() => runAttention(instance())));
  $('#softmax-form').addEventListener('submit', action(() => runSoftmax(instance())));
  $('#train-form').addEventListener('submit', action(() => train(instance())));
  $('#grid-train-form').addEventListener('submit', action(() => trainGrid(instance())));
  $('#neighbours-form').addEventListener('submit', action(showNeighbours));
  const threadsForm = $<HTMLFormElement>('#threads-form');
  threadsForm.addEventListener('submit', (event) => event.preventDefault());
  threadsForm.addEventListener('change', (event) => {
    const choice = (threadsForm.elements.namedItem('threads') as RadioNodeList).value === '1' ? 1 : 'auto';
    window.weftDemoReady = false; // at once, not when the switch gets its turn
    void action(() => useThreads(choice))(event);
  });
  // the page shows numbers on arrival: every panel on every core ('auto', the default)
  await action(() => useThreads('auto'))();
}

void main();
