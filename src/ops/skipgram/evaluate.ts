// Intrinsic evaluation with gensim's conventions (KeyedVectors.evaluate_word_analogies
// and evaluate_word_pairs): only the first `restrictVocab` words (by frequency) are
// used, words compare case-insensitively (the most frequent casing wins), questions or
// pairs with a word outside that vocabulary are skipped and counted.

import { WeftError } from '../../errors.js';
import { type VectorSpace, cosmulScores } from './similarity.js';

/** Options of evaluateAnalogies and evaluateWordPairs. */
export interface EvaluationOptions {
  /** Use only this many of the most frequent words: an integer >= 1 (RANGE below). Default 300000 (gensim). */
  restrictVocab?: number;
  /** Compare words upper-cased. Default true (gensim). */
  caseInsensitive?: boolean;
}

/** How an analogy question "a is to b as c is to ?" is answered. */
export type AnalogyMethod = '3cosadd' | '3cosmul';

export interface AnalogyOptions extends EvaluationOptions {
  /**
   * '3cosadd' (default): the best word for b - a + c on unit vectors (gensim's
   * evaluate_word_analogies). '3cosmul': the best word by Levy & Goldberg's 3CosMul,
   * (1 + cos(w, b)) (1 + cos(w, c)) / 2 / ((1 + cos(w, a)) / 2 + 1e-6), as gensim's
   * most_similar_cosmul(positive=[b, c], negative=[a]) answers it (gensim's evaluation has
   * no 3CosMul); the same vocabulary rules, candidates among the restrictVocab words.
   */
  method?: AnalogyMethod;
}

/** One section (`: name` header) of an analogy file. */
export interface AnalogySection {
  /** The section's name, from its header line. */
  section: string;
  /** Questions answered right. */
  correct: number;
  /** Questions evaluated (all four words known). */
  total: number;
  /** correct / total (0 for no question). */
  accuracy: number;
}

/** What evaluateAnalogies returns. SHAPE for a question before the first section header. */
export interface AnalogyResult {
  /** correct / total over every section. */
  accuracy: number;
  /** Questions answered right, over every section. */
  correct: number;
  /** Questions evaluated, over every section. */
  total: number;
  /** Questions skipped because a word is out of the (restricted) vocabulary. */
  skipped: number;
  /** Each section, in file order. */
  sections: AnalogySection[];
}

/** What evaluateWordPairs returns. RANGE when no line can be scored. */
export interface WordPairResult {
  /** Spearman rank correlation (ties get average ranks, as scipy.stats.spearmanr). */
  spearman: number;
  /** Pearson correlation of the cosines with the scores. */
  pearson: number;
  /** Fraction of pairs skipped for unknown words, 0..1 (gensim reports it in percent). */
  oov: number;
  /** Pairs evaluated. */
  pairs: number;
}

function lookup(space: VectorSpace, options: EvaluationOptions) {
  const limit = Math.min(space.words.length, options.restrictVocab ?? 300000);
  const fold = options.caseInsensitive ?? true;
  const key = (w: string) => (fold ? w.toUpperCase() : w);
  const ids = new Map<string, number>();
  // the first (most frequent) casing of a word wins, as gensim's reversed dict build
  for (let i = limit - 1; i >= 0; i--) ids.set(key(space.words[i]), i);
  return { limit, key, ids };
}

/** Scores of a GEMM call at most (64 MB): 512 questions of 3CosAdd at 30K words, fewer above. */
const ANALOGY_SCORE_FLOATS = 1 << 24;
/** Questions per GEMM call at most. */
const ANALOGY_BATCH = 512;
/** gensim looks at the 5 best answers for one not among the question's words. */
const ANALOGY_TOPN = 5;

interface Question {
  section: number;
  words: [number, number, number, number];
  keys: string[];
}

/**
 * Is `d` the best answer to "a is to b as c is to ?", excluding a, b and c: by 3CosAdd on
 * unit vectors (b - a + c), or by 3CosMul. Questions are scored in batches by GEMMs on
 * the backend: one query row per question for 3CosAdd, the rows of a, b and c for 3CosMul.
 */
export function evaluateAnalogies(space: VectorSpace, text: string, options: AnalogyOptions = {}): AnalogyResult {
  const method = options.method ?? '3cosadd';
  const { limit, key, ids } = lookup(space, options);
  const sections: AnalogySection[] = [];
  const questions: Question[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (line.startsWith(': ')) {
      sections.push({ section: line.slice(2).trim(), correct: 0, total: 0, accuracy: 0 });
      continue;
    }
    const parts = line.trim().split(/\s+/);
    if (parts.length === 1 && parts[0] === '') continue;
    if (sections.length === 0) throw new WeftError('SHAPE', `evaluateAnalogies: line ${n + 1}: a question before the first ": section" header, got ${JSON.stringify(line.trim())}`);
    if (parts.length !== 4) continue; // gensim skips malformed lines
    const keys = parts.map(key);
    const found = keys.map((k) => ids.get(k));
    if (found.some((id) => id === undefined)) {
      skipped++;
      continue;
    }
    questions.push({ section: sections.length - 1, words: found as Question['words'], keys });
  }

  const { dim } = space;
  const rowsPerQuestion = method === '3cosmul' ? 3 : 1;
  const batch = Math.max(1, Math.min(ANALOGY_BATCH, Math.floor(ANALOGY_SCORE_FLOATS / (rowsPerQuestion * limit))));
  const queries = new Float32Array(batch * rowsPerQuestion * dim);
  const unitA = new Float32Array(dim), unitB = new Float32Array(dim), unitC = new Float32Array(dim);
  for (let q0 = 0; q0 < questions.length; q0 += batch) {
    const chunk = questions.slice(q0, q0 + batch);
    chunk.forEach((q, r) => {
      const [a, b, c] = q.words;
      if (method === '3cosmul') {
        for (const [i, id] of [a, b, c].entries()) space.unitRow(id, queries, (3 * r + i) * dim);
        return;
      }
      // gensim's most_similar(positive=[b, c], negative=[a]): the normalised b̂ + ĉ - â
      space.unitRow(a, unitA);
      space.unitRow(b, unitB);
      space.unitRow(c, unitC);
      let sq = 0;
      for (let k = 0; k < dim; k++) sq += (unitB[k] + unitC[k] - unitA[k]) ** 2;
      const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
      for (let k = 0; k < dim; k++) queries[r * dim + k] = (unitB[k] + unitC[k] - unitA[k]) * scale;
    });
    const rows = chunk.length * rowsPerQuestion;
    const scores = space.scores(queries.subarray(0, rows * dim), rows, limit);
    chunk.forEach((q, r) => {
      const [a, b, c, expected] = q.words;
      const ignore = new Set(q.keys.slice(0, 3));
      const candidates = method === '3cosmul' ? cosmulScores(scores.subarray(3 * r * limit, (3 * r + 3) * limit), limit, [1, 2], [0]) : scores;
      const best = space.best(candidates, method === '3cosmul' ? 0 : r * limit, limit, ANALOGY_TOPN, new Set([a, b, c]));
      const predicted = best.find((id) => !ignore.has(key(space.words[id])));
      const section = sections[q.section];
      section.total++;
      if (predicted !== undefined && key(space.words[predicted]) === key(space.words[expected])) section.correct++;
    });
  }
  let correct = 0, total = 0;
  for (const s of sections) {
    s.accuracy = s.total > 0 ? s.correct / s.total : 0;
    correct += s.correct;
    total += s.total;
  }
  return { accuracy: total > 0 ? correct / total : 0, correct, total, skipped, sections };
}

/** Correlation of cosine similarity with human scores: lines "word1<TAB>word2<TAB>score", # comments. */
export function evaluateWordPairs(space: VectorSpace, text: string, options: EvaluationOptions & { delimiter?: string } = {}): WordPairResult {
  const { key, ids } = lookup(space, options);
  const delimiter = options.delimiter ?? '\t';
  const gold: number[] = [];
  const model: number[] = [];
  let oov = 0, malformed = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(delimiter);
    const score = parts.length === 3 && parts[2].trim() !== '' ? Number(parts[2].trim()) : NaN;
    if (!Number.isFinite(score)) {
      malformed++; // gensim skips malformed lines
      continue;
    }
    const a = ids.get(key(parts[0])), b = ids.get(key(parts[1]));
    if (a === undefined || b === undefined) {
      oov++;
      continue;
    }
    gold.push(score);
    model.push(space.similarity(a, b));
  }
  if (gold.length === 0) {
    const why = oov > 0
      ? `no pair has both words in the vocabulary (${oov} skipped as unknown, ${malformed} malformed lines)`
      : `no line has the form word1${JSON.stringify(delimiter).slice(1, -1)}word2${JSON.stringify(delimiter).slice(1, -1)}score (${malformed} malformed lines)`;
    throw new WeftError('RANGE', `evaluateWordPairs: ${why}`);
  }
  return { spearman: pearson(ranks(gold), ranks(model)), pearson: pearson(gold, model), oov: oov / (gold.length + oov), pairs: gold.length };
}

/** Pearson correlation coefficient. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** 1-based ranks, ties sharing their average rank (scipy.stats.rankdata 'average'). */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((i, j) => values[i] - values[j]);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) out[order[k]] = rank;
    start = end;
  }
  return out;
}
