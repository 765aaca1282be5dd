// Intrinsic evaluation with gensim's conventions (KeyedVectors.evaluate_word_analogies
// and evaluate_word_pairs): only the first `restrictVocab` words (by frequency) are
// used, words compare case-insensitively (the most frequent casing wins), questions or
// pairs with a word outside that vocabulary are skipped and counted.

import { WeftError } from '../../errors.js';
import type { VectorSpace } from './similarity.js';

/** Options of evaluateAnalogies and evaluateWordPairs. */
export interface EvaluationOptions {
  /** Use only this many of the most frequent words: an integer >= 1 (RANGE below). Default 300000 (gensim). */
  restrictVocab?: number;
  /** Compare words upper-cased. Default true (gensim). */
  caseInsensitive?: boolean;
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

/** Queries scored per GEMM call: 512 x 30K words is a 60 MB score matrix. */
const ANALOGY_BATCH = 512;
/** gensim looks at the 5 best answers for one not among the question's words. */
const ANALOGY_TOPN = 5;

interface Question {
  section: number;
  words: [number, number, number, number];
  keys: string[];
}

/** 3CosAdd on unit vectors: is `d` the best word for b - a + c, excluding a, b, c? */
export function evaluateAnalogies(space: VectorSpace, text: string, options: EvaluationOptions = {}): AnalogyResult {
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
  const queries = new Float32Array(ANALOGY_BATCH * dim);
  for (let q0 = 0; q0 < questions.length; q0 += ANALOGY_BATCH) {
    const chunk = questions.slice(q0, q0 + ANALOGY_BATCH);
    chunk.forEach((q, r) => {
      const [a, b, c] = q.words;
      queries.set(space.combine([{ id: b, sign: 1 }, { id: c, sign: 1 }, { id: a, sign: -1 }]), r * dim);
    });
    const scores = space.scoreBatch(queries.subarray(0, chunk.length * dim), chunk.length, limit);
    chunk.forEach((q, r) => {
      const [a, b, c, expected] = q.words;
      const ignore = new Set(q.keys.slice(0, 3));
      const best = space.best(scores, r * limit, limit, ANALOGY_TOPN, new Set([a, b, c]));
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
