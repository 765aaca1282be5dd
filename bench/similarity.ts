// Similarity queries of a skip-gram model (src/ops/skipgram/similarity.ts, queries.ts):
// gensim's most_similar and most_similar_cosmul over V = 100K random vectors of dim 100,
// and the analogy benchmark's batched 3CosAdd on 1000 questions (300 with --quick). weft's WASM builds and
// JS backend search the unit vectors held in a backend table (one mat-vec per query,
// GEMMs for a batch); "JS loop" is the search weft ran before (a JS loop over V * dim on
// unit rows in a JS array), and gensim answers from the same vectors (numpy and BLAS),
// timed with timeit in its own process.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SkipGramModel, Weft } from '../src/index.js';
import { Rng, fillNormal } from '../src/rng.js';
import { writeWord2Vec } from '../src/ops/skipgram/word2vec.js';
import type { BenchContext, FamilyTable } from './context.js';
import { type Cell, medianMs } from './harness.js';
import { type GensimQuery, timeGensimQueries } from './peers/gensim.js';
import { ThreadColumns } from './threads.js';

const V = 100_000;
const DIM = 100;
/** Analogy questions timed (--quick: fewer; each takes about 1 ms of GEMM here, gensim 2.5). */
const QUESTIONS = { quick: 300, full: 1000 };
const words = Array.from({ length: V }, (_, i) => `w${i}`);

interface Row {
  label: string;
  query: GensimQuery;
  run: (model: SkipGramModel) => unknown;
}

const ROWS: Row[] = [
  { label: 'mostSimilar(word), top 10', query: { method: 'most_similar', positive: ['w17'], negative: [], topn: 10 }, run: (m) => m.mostSimilar('w17', 10) },
  {
    label: 'mostSimilar(b + c - a), top 10',
    query: { method: 'most_similar', positive: ['w5', 'w7'], negative: ['w9'], topn: 10 },
    run: (m) => m.mostSimilar({ positive: ['w5', 'w7'], negative: ['w9'] }),
  },
  {
    label: 'mostSimilarCosmul(b, c / a), top 10',
    query: { method: 'most_similar_cosmul', positive: ['w5', 'w7'], negative: ['w9'], topn: 10 },
    run: (m) => m.mostSimilarCosmul({ positive: ['w5', 'w7'], negative: ['w9'] }),
  },
];

/** The search before the backend table: unit rows in a JS array, scored by a loop over V * dim per term. */
class JsLoopSearch {
  readonly unit = new Float32Array(V * DIM);

  constructor(vectors: Float32Array) {
    for (let v = 0; v < V; v++) {
      let sq = 0;
      for (let k = 0; k < DIM; k++) sq += vectors[v * DIM + k] ** 2;
      for (let k = 0; k < DIM; k++) this.unit[v * DIM + k] = vectors[v * DIM + k] / Math.sqrt(sq);
    }
  }

  scores(query: Float32Array): Float32Array {
    const out = new Float32Array(V);
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let k = 0; k < DIM; k++) s += this.unit[v * DIM + k] * query[k];
      out[v] = s;
    }
    return out;
  }

  /** Normalised sum of signed unit rows. */
  query(terms: [number, number][]): Float32Array {
    const q = new Float64Array(DIM);
    for (const [id, sign] of terms) for (let k = 0; k < DIM; k++) q[k] += sign * this.unit[id * DIM + k];
    const n = Math.hypot(...q);
    return Float32Array.from(q, (x) => x / n);
  }

  top(scores: ArrayLike<number>, topN: number, exclude: Set<number>): number[] {
    const top: number[] = [];
    for (let v = 0; v < V; v++) {
      if (exclude.has(v) || (top.length === topN && !(scores[v] > scores[top[topN - 1]]))) continue;
      let at = Math.min(top.length, topN - 1);
      while (at > 0 && scores[top[at - 1]] < scores[v]) {
        top[at] = top[at - 1];
        at--;
      }
      top[at] = v;
    }
    return top;
  }

  run(row: Row): number[] {
    const ids = (list: string[]) => list.map((w) => Number(w.slice(1)));
    const [pos, neg] = [ids(row.query.positive), ids(row.query.negative)];
    const exclude = new Set([...pos, ...neg]);
    if (row.query.method === 'most_similar') {
      const q = this.query([...pos.map((id): [number, number] => [id, 1]), ...neg.map((id): [number, number] => [id, -1])]);
      return this.top(this.scores(q), row.query.topn, exclude);
    }
    const shifted = (id: number) => Float64Array.from(this.scores(this.query([[id, 1]])), (s) => (1 + s) / 2);
    const num = pos.map(shifted), den = neg.map(shifted);
    const combined = new Float64Array(V);
    for (let v = 0; v < V; v++) combined[v] = num.reduce((p, s) => p * s[v], 1) / (den.reduce((p, s) => p * s[v], 1) + 1e-6);
    return this.top(combined, row.query.topn, exclude);
  }
}

export async function benchSimilarity(ctx: BenchContext): Promise<FamilyTable> {
  ctx.progress.show('similarity queries: preparing 100K vectors');
  const vectors = fillNormal(new Rng(3), new Float32Array(V * DIM));
  const bytes = writeWord2Vec({ words, vectors, dim: DIM }, true);
  const rng = new Rng(4);
  const count = ctx.quick ? QUESTIONS.quick : QUESTIONS.full;
  const questions = [': random', ...Array.from({ length: count }, () => [0, 1, 2, 3].map(() => words[rng.nextBelow(V)]).join(' '))].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'weft-similarity-'));
  const threads = new ThreadColumns(ctx, 'similarity', { headlines: [ROWS[0].label] });
  const best = ctx.impls[0];
  try {
    writeFileSync(join(dir, 'vectors.bin'), bytes);
    writeFileSync(join(dir, 'questions.txt'), `${questions}\n`);
    const models = new Map<Weft, SkipGramModel>();
    const modelOf = (weft: Weft) => {
      if (!models.has(weft)) models.set(weft, weft.skipGram.fromWord2Vec(bytes, { binary: true }));
      return models.get(weft)!;
    };
    // the first query copies the unit vectors into the backend: timed once, on a fresh model
    const fresh = best.weft.skipGram.fromWord2Vec(bytes, { binary: true });
    let t0 = performance.now();
    ROWS[0].run(fresh);
    const firstMs = performance.now() - t0;
    t0 = performance.now();
    ROWS[0].run(fresh);
    const warmMs = performance.now() - t0;
    fresh.dispose();
    const loop = new JsLoopSearch(vectors);

    ctx.progress.show('similarity queries: gensim');
    const gensim = timeGensimQueries(join(dir, 'vectors.bin'), ROWS.map((r) => r.query), { questionsPath: join(dir, 'questions.txt'), oneThread: true });
    // gensim as it runs by default: OpenBLAS on every core (beside weft's N-thread column)
    const gensimThreads = gensim && threads.threaded ? timeGensimQueries(join(dir, 'vectors.bin'), ROWS.map((r) => r.query), { oneThread: false }) : null;
    const rows: Cell[][] = [];
    for (const [i, row] of ROWS.entries()) {
      ctx.progress.show(`similarity queries: ${row.label}`);
      const tasks: Record<string, () => unknown> = { 'JS loop': () => loop.run(row) };
      for (const impl of ctx.impls) tasks[impl.label] = () => row.run(modelOf(impl.weft));
      threads.addTask(tasks, (weft) => row.run(modelOf(weft)));
      const ms = await medianMs(tasks, ctx.timing);
      const g = gensim?.ms[i];
      rows.push([
        row.label, ...ctx.impls.map((impl) => ms[impl.label]), ms['JS loop'], g,
        ms['JS loop'] / ms[best.label], g !== undefined ? g / ms[best.label] : undefined,
        ...threads.timeCells(row.label, ms[best.label], ms[threads.key]),
      ]);
    }
    // the analogy benchmark: weft scores its questions by GEMMs, gensim one most_similar each
    ctx.progress.show(`similarity queries: ${count} analogy questions`);
    const label = `evaluateAnalogies, ${count} questions (3CosAdd)`;
    const tasks: Record<string, () => unknown> = {};
    for (const impl of ctx.impls) if (impl.label !== 'js') tasks[impl.label] = () => modelOf(impl.weft).evaluateAnalogies(questions);
    threads.addTask(tasks, (weft) => modelOf(weft).evaluateAnalogies(questions));
    const ms = await medianMs(tasks, ctx.timing);
    const correct = modelOf(best.weft).evaluateAnalogies(questions).correct;
    rows.push([
      label, ...ctx.impls.map((impl) => ms[impl.label]), undefined, gensim?.analogiesMs,
      undefined, gensim?.analogiesMs !== undefined ? gensim.analogiesMs / ms[best.label] : undefined,
      ...threads.timeCells(label, ms[best.label], ms[threads.key]),
    ]);
    for (const model of models.values()) model.dispose();
    return {
      slug: 'similarity',
      title: `similarity queries, ms per call (V = ${V / 1000}K random vectors, dim ${DIM}; one thread unless the column says)`,
      header: [
        'query', ...ctx.impls.map((impl) => `${impl.label} ms`), 'JS loop ms', `gensim${gensim ? ` ${gensim.version}` : ''} ms`,
        `JS loop / ${best.label}`, `gensim / ${best.label}`, ...threads.header(' ms'),
      ],
      rows,
      notes: [
        `${best.label}, js: the unit vectors copied once into a backend table, k-major [dim, V]; a query is one mat-vec (the GEMM's in-place path; 3CosMul's three terms in one pass); the first query on a model builds the table: ${firstMs.toFixed(0)} ms (then ${warmMs.toFixed(1)} ms)` +
          (gensim ? `; gensim's first query computes its norms: ${gensim.firstMs.toFixed(0)} ms.` : '.'),
        `gensim: numpy over OpenBLAS limited to one thread (OPENBLAS_NUM_THREADS=1)` +
          (gensimThreads ? `; with OpenBLAS on every core: ${gensimThreads.ms.map((ms) => ms.toFixed(2)).join(' / ')} ms for the ${ROWS.length} queries.` : '.'),
        'JS loop: the search weft ran before the table (unit rows in a JS array, a loop over V x dim per query and term); js: the JS backend, whose GEMM walks the k-major table row by row.',
        `evaluateAnalogies: scores as GEMMs of up to ${Math.floor((1 << 24) / V)} questions x ${V / 1000}K words; gensim's evaluate_word_analogies runs one most_similar per question ` +
          `(one run each; weft ${correct} correct${gensim?.analogiesCorrect !== undefined ? `, gensim ${gensim.analogiesCorrect}` : ''}); the JS backend is not timed on it ('-').`,
        ...threads.notes(),
      ],
      threadSpeedups: threads.speedups,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
