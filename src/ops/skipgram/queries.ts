// The model's similarity queries, as gensim 4's KeyedVectors answers them
// (most_similar, most_similar_cosmul, doesnt_match, n_similarity): argument checks,
// then the search on a VectorSpace. Differences from gensim are deliberate and named in
// the TSDoc of SkipGramModel's methods: every bad input throws WeftError (gensim returns
// [] for topn < 1, skips unknown words in doesnt_match and n_similarity, and answers NaN
// for a word whose vector is zero).

import { WeftError, describe } from '../../errors.js';
import { checkInteger, checkOptionsObject } from '../../args.js';
import { type Similar, type VectorSpace, cosmulScores, normalise } from './similarity.js';

/** A query term: a word of the vocabulary, or a vector of `dim` numbers. */
export type QueryTerm = string | ArrayLike<number>;

/** Options of model.mostSimilar (gensim's most_similar); OPTION for a key not listed here. */
export interface MostSimilarOptions {
  /** Words and vectors the result should be close to. Default none (but positive and negative together need a term: SHAPE). */
  positive?: readonly QueryTerm[];
  /** Words and vectors it should be far from. Default none. */
  negative?: readonly QueryTerm[];
  /** How many words to return (at most). Default 10. */
  topN?: number;
  /** Search only the first (most frequent) words. Default: every word. */
  restrictVocab?: number;
}

/** Options of model.mostSimilarCosmul (gensim's most_similar_cosmul). */
export interface MostSimilarCosmulOptions extends MostSimilarOptions {
  /** Required: at least one word or vector (3CosMul multiplies their similarities; SHAPE when empty). */
  positive: readonly QueryTerm[];
}

/** A resolved term: its vector, its row when it is a word, its sign. */
interface Term {
  vector: ArrayLike<number>;
  id?: number;
  sign: 1 | -1;
}

interface Query {
  terms: Term[];
  topN: number;
  limit: number;
}

/** Row of `word`; RANGE when it is not in the vocabulary (`where` names the argument). */
export function wordId(space: VectorSpace, op: string, where: string, word: unknown): number {
  if (typeof word !== 'string') throw new WeftError('DTYPE', `${op}: ${where} must be a word (string), got ${describe(word)}`);
  const id = space.index.get(word);
  if (id === undefined) throw new WeftError('RANGE', `${op}: ${where}: "${word}" is not in the vocabulary`);
  return id;
}

/** The unit vector of a word; RANGE when its vector is zero (gensim divides by its zero norm: NaN everywhere). */
function wordVector(space: VectorSpace, op: string, where: string, id: number): Float32Array {
  const unit = space.unitRow(id);
  if (unit.every((x) => x === 0)) {
    throw new WeftError('RANGE', `${op}: ${where}: "${space.words[id]}" has a zero vector: it has no direction to compare`);
  }
  return unit;
}

/** A vector term checked: `dim` finite numbers, not all zero. */
function vectorTerm(space: VectorSpace, op: string, where: string, value: unknown): ArrayLike<number> {
  const { dim } = space;
  const length = (value as { length?: unknown } | null)?.length;
  if (typeof value !== 'object' || value === null || typeof length !== 'number') {
    throw new WeftError('DTYPE', `${op}: ${where} must be a word or a vector of ${dim} numbers, got ${describe(value)}`);
  }
  const vector = value as ArrayLike<unknown>;
  if (length !== dim) throw new WeftError('SHAPE', `${op}: ${where}: expected a vector of ${dim} numbers, got ${length}`);
  let zero = true;
  for (let k = 0; k < dim; k++) {
    const x = vector[k];
    if (typeof x !== 'number') throw new WeftError('DTYPE', `${op}: ${where}[${k}] is ${describe(x)}, expected a number`);
    if (!Number.isFinite(x)) throw new WeftError('RANGE', `${op}: ${where}[${k}] is ${x}, expected a finite number`);
    if (x !== 0) zero = false;
  }
  if (zero) throw new WeftError('RANGE', `${op}: ${where} is the zero vector: it has no direction to compare`);
  return vector as ArrayLike<number>;
}

/** The terms of one list (`positive` or `negative`): words as unit vectors, vectors as given. */
function listTerms(space: VectorSpace, op: string, name: string, list: unknown, sign: 1 | -1): Term[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    const hint = typeof list === 'string' || ArrayBuffer.isView(list) ? `; wrap one term in a list: ${name}: [term]` : '';
    throw new WeftError('DTYPE', `${op}: ${name} must be a list of words and vectors, got ${describe(list)}${hint}`);
  }
  return list.map((term: unknown, i): Term => {
    const where = `${name}[${i}]`;
    if (typeof term === 'string') {
      const id = wordId(space, op, where, term);
      return { vector: wordVector(space, op, where, id), id, sign };
    }
    return { vector: vectorTerm(space, op, where, term), sign };
  });
}

const QUERY_OPTIONS = ['positive', 'negative', 'topN', 'restrictVocab'];

/** The checked options of a search: its terms, topN and the searched prefix of the vocabulary. */
function checkQuery(space: VectorSpace, op: string, options: unknown, needPositive: boolean): Query {
  const o = checkOptionsObject(op, options as MostSimilarOptions);
  for (const key of Object.keys(o)) {
    if (!QUERY_OPTIONS.includes(key)) {
      const near = QUERY_OPTIONS.find((name) => name.toLowerCase() === key.toLowerCase().replace(/_/g, ''));
      throw new WeftError('OPTION', `${op}: unknown option "${key}"${near ? ` (did you mean ${near}?)` : ''}; the options are ${QUERY_OPTIONS.join(', ')}`);
    }
  }
  const positive = listTerms(space, op, 'positive', o.positive, 1);
  const negative = listTerms(space, op, 'negative', o.negative, -1);
  if (needPositive && positive.length === 0) {
    throw new WeftError('SHAPE', `${op}: positive is empty: 3CosMul needs at least one word or vector to be close to`);
  }
  if (positive.length + negative.length === 0) {
    throw new WeftError('SHAPE', `${op}: positive and negative are both empty: give at least one word or vector`);
  }
  const topN = checkInteger(`${op}: topN`, o.topN, 1, Number.MAX_SAFE_INTEGER, 10);
  const restrict = checkInteger(`${op}: restrictVocab`, o.restrictVocab, 1, Number.MAX_SAFE_INTEGER, space.size);
  return { terms: [...positive, ...negative], topN, limit: Math.min(space.size, restrict) };
}

/** Words of the query, never returned (gensim leaves out the query's words, not its vectors). */
function queryWords(terms: readonly Term[]): Set<number> {
  return new Set(terms.flatMap((t) => (t.id === undefined ? [] : [t.id])));
}

function ranked(space: VectorSpace, scores: ArrayLike<number>, query: Query): Similar {
  return space.best(scores, 0, query.limit, query.topN, queryWords(query.terms)).map((id) => [space.words[id], scores[id]]);
}

/**
 * gensim's most_similar: cosine with the normalised sum of the positive terms minus the
 * negative ones (words as unit vectors, vectors as given), one mat-vec on the backend.
 */
export function mostSimilar(space: VectorSpace, options: unknown, op = 'mostSimilar'): Similar {
  const query = checkQuery(space, op, options, false);
  const sum = new Float64Array(space.dim);
  for (const { vector, sign } of query.terms) for (let k = 0; k < space.dim; k++) sum[k] += sign * vector[k];
  const unit = normalise(sum, `${op}: the sum of the positive terms minus the negative ones`);
  return ranked(space, space.scores(unit, 1, query.limit), query);
}

/** gensim's most_similar_cosmul (3CosMul), every term's cosines from one GEMM on the backend. */
export function mostSimilarCosmul(space: VectorSpace, options: unknown): Similar {
  const op = 'mostSimilarCosmul';
  const query = checkQuery(space, op, options, true);
  const { dim } = space;
  const rows = new Float32Array(query.terms.length * dim);
  query.terms.forEach((t, r) => rows.set(t.id === undefined ? normalise(t.vector, `${op}: a vector term`) : t.vector, r * dim));
  const scores = space.scores(rows, query.terms.length, query.limit);
  const rowsOf = (sign: number) => query.terms.flatMap((t, r) => (t.sign === sign ? [r] : []));
  return ranked(space, cosmulScores(scores, query.limit, rowsOf(1), rowsOf(-1)), query);
}

/** Rows of a non-empty list of known words (`name` labels it in errors). */
function wordList(space: VectorSpace, op: string, name: string, words: unknown): number[] {
  if (!Array.isArray(words)) throw new WeftError('DTYPE', `${op}: ${name} must be a list of words, got ${describe(words)}`);
  if (words.length === 0) throw new WeftError('SHAPE', `${op}: ${name} is empty: give at least one word`);
  return words.map((word: unknown, i) => wordId(space, op, `${name}[${i}]`, word));
}

/**
 * gensim's doesnt_match: the word least similar to the normalised mean of the words' unit
 * vectors; among equal similarities the one that sorts first as a string (gensim sorts
 * (similarity, word) pairs).
 */
export function doesntMatch(space: VectorSpace, words: unknown): string {
  const op = 'doesntMatch';
  const ids = wordList(space, op, 'words', words);
  const { dim } = space;
  const units = ids.map((id, i) => wordVector(space, op, `words[${i}]`, id));
  const mean = new Float64Array(dim);
  for (const unit of units) for (let k = 0; k < dim; k++) mean[k] += unit[k] / units.length;
  // a mean of zero (words that cancel out) leaves every similarity 0, as gensim's unitvec
  let sq = 0;
  for (let k = 0; k < dim; k++) sq += mean[k] * mean[k];
  const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  let worst = -1, worstSimilarity = Infinity;
  ids.forEach((id, i) => {
    let s = 0;
    for (let k = 0; k < dim; k++) s += units[i][k] * mean[k] * scale;
    const word = space.words[id];
    if (s < worstSimilarity || (s === worstSimilarity && word < space.words[worst])) {
      worst = id;
      worstSimilarity = s;
    }
  });
  return space.words[worst];
}

/**
 * gensim's n_similarity: cosine of the means of two lists of words, the means taken over
 * the raw vectors (not unit ones, as gensim).
 */
export function nSimilarity(space: VectorSpace, wordsA: unknown, wordsB: unknown): number {
  const op = 'nSimilarity';
  const mean = (name: string, words: unknown) => {
    const ids = wordList(space, op, name, words);
    const sum = new Float64Array(space.dim);
    for (const id of ids) for (let k = 0; k < space.dim; k++) sum[k] += space.vectors[id * space.dim + k];
    return normalise(sum, `${op}: the mean vector of ${name}`);
  };
  const a = mean('wordsA', wordsA), b = mean('wordsB', wordsB);
  let s = 0;
  for (let k = 0; k < space.dim; k++) s += a[k] * b[k];
  return s;
}
