// The vocabulary: word counts from one pass over the corpus (or given: a word2vec.c
// vocabulary file, gensim's build_vocab_from_freq), then gensim's rules: words with
// count < minCount are dropped, the rest sorted by descending count with ties in order
// of first appearance (gensim's stable sort), at most maxVocab kept. Also word2vec's
// subsampling table and word2vec.c's vocabulary files (-save-vocab / -read-vocab).

import { WeftError, describe } from '../../errors.js';

export class Vocabulary {
  /** Words by descending count. */
  readonly words: string[];
  /** counts[i] of words[i]. */
  readonly counts: Float64Array;
  readonly index: Map<string, number>;
  /** Tokens in the corpus the vocabulary was built from, dropped words included (one epoch). */
  readonly corpusWords: number;
  /** Sentences of that corpus: the count of word2vec.c's end-of-line token `</s>` in vocabulary files. */
  readonly sentences: number;

  constructor(words: string[], counts: Float64Array, corpusWords: number, sentences = 0) {
    this.words = words;
    this.counts = counts;
    this.corpusWords = corpusWords;
    this.sentences = sentences;
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  get size(): number {
    return this.words.length;
  }

  /** Sum of the counts of the kept words. */
  get retainedWords(): number {
    let total = 0;
    for (const c of this.counts) total += c;
    return total;
  }
}

/** A copy of s that does not keep a larger string alive (V8 slices share their parent's buffer). */
function ownString(s: string): string {
  return s.length >= 13 ? (s + ' ').slice(0, -1) : s;
}

/** Counts tokens sentence by sentence. */
export class VocabCounter {
  private readonly counts = new Map<string, number>();
  private tokens = 0;
  private sentences = 0;

  add(sentence: readonly string[]): void {
    const counts = this.counts;
    for (const token of sentence) {
      const c = counts.get(token);
      if (c === undefined) counts.set(ownString(token), 1);
      else counts.set(token, c + 1);
    }
    this.tokens += sentence.length;
    if (sentence.length > 0) this.sentences++;
  }

  /** The vocabulary under gensim's minCount / max_final_vocab rules. */
  finish(minCount: number, maxVocab: number | undefined): Vocabulary {
    if (this.tokens === 0) throw new WeftError('SHAPE', 'corpus: it has no words (empty text or no sentences)');
    return selectWords(this.counts, minCount, maxVocab, this.tokens, this.sentences, 'the corpus has');
  }
}

/** The words of `counts` (first-appearance order) kept by minCount and maxVocab, by descending count. */
function selectWords(
  counts: Iterable<[string, number]>, minCount: number, maxVocab: number | undefined, corpusWords: number, sentences: number, source: string,
): Vocabulary {
  const kept: [string, number][] = [];
  let most = 0, distinct = 0;
  for (const entry of counts) {
    if (entry[1] >= minCount) kept.push(entry);
    most = Math.max(most, entry[1]);
    distinct++;
  }
  if (kept.length === 0) {
    throw new WeftError(
      'RANGE',
      `minCount: ${minCount} removes every word (${source} ${distinct} distinct words, the most frequent occurs ${most} times)`,
    );
  }
  // Array.prototype.sort is stable: equal counts keep their first-appearance order
  kept.sort((a, b) => b[1] - a[1]);
  if (maxVocab !== undefined && kept.length > maxVocab) kept.length = maxVocab;
  return new Vocabulary(kept.map((e) => e[0]), Float64Array.from(kept, (e) => e[1]), corpusWords, sentences);
}

/**
 * word2vec.c's end-of-line token. Its vocabulary files list it first, counted once per
 * line of the corpus; weft's vocabularies have no such word (lines are sentences), so
 * it carries the vocabulary's sentence count in and out of files.
 */
export const END_OF_LINE = '</s>';

/** Word counts given instead of a corpus: a Map, [word, count] pairs, or a plain object. */
export type VocabCounts = ReadonlyMap<string, number> | Iterable<readonly [string, number]> | Readonly<Record<string, number>>;

/**
 * A vocabulary from given counts (gensim's build_vocab_from_freq, word2vec.c's ReadVocab):
 * minCount and maxVocab apply, ties keep the order given; `</s>` is the sentence count,
 * not a word. corpusWords (the learning-rate schedule's words per epoch) is the sum of
 * every count given, as word2vec.c's train_words.
 */
export function vocabularyFromCounts(counts: unknown, minCount: number, maxVocab: number | undefined): Vocabulary {
  const entries = countEntries(counts);
  const seen = new Map<string, number>();
  let corpusWords = 0, sentences = 0;
  entries.forEach((entry, i) => {
    const where = entries.named ? `counts["${(entry as [string, unknown])[0]}"]` : `counts[${i}]`;
    if (!entries.named && (!Array.isArray(entry) || entry.length !== 2)) {
      throw new WeftError('DTYPE', `${where} must be a [word, count] pair, got ${describe(entry)}`);
    }
    const [word, count] = entry as [unknown, unknown];
    if (typeof word !== 'string') throw new WeftError('DTYPE', `${where}: the word must be a string, got ${describe(word)}`);
    if (word === '' || /\s/.test(word)) throw new WeftError('RANGE', `${where}: the word ${JSON.stringify(word)} is empty or contains whitespace`);
    if (typeof count !== 'number') throw new WeftError('DTYPE', `${where}: the count of "${word}" must be a number, got ${describe(count)}`);
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new WeftError('RANGE', `${where}: the count of "${word}" is ${count}, expected an integer >= 0`);
    }
    if (seen.has(word)) throw new WeftError('RANGE', `${where}: "${word}" is given twice (first at counts[${seen.get(word)}])`);
    seen.set(word, i);
    if (word === END_OF_LINE) sentences = count;
    else corpusWords += count;
  });
  if (seen.size === (seen.has(END_OF_LINE) ? 1 : 0)) throw new WeftError('SHAPE', 'counts: no words given');
  const words = (function* () {
    for (const [word, count] of entries as [string, number][]) if (word !== END_OF_LINE) yield [word, count] as [string, number];
  })();
  return selectWords(words, minCount, maxVocab, corpusWords, sentences, 'the counts have');
}

/** The entries of a VocabCounts, `named` when they come from a Map or an object (errors name the word). */
function countEntries(counts: unknown): unknown[] & { named?: boolean } {
  if (typeof counts === 'string') {
    throw new WeftError('DTYPE', 'counts: expected word counts, got a string (a vocabulary file\'s text goes through weft.skipGram.readVocab)');
  }
  if (counts instanceof Map) return Object.assign([...counts], { named: true });
  if (typeof counts === 'object' && counts !== null && typeof (counts as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return [...(counts as Iterable<unknown>)];
  }
  if (typeof counts === 'object' && counts !== null && !ArrayBuffer.isView(counts)) {
    return Object.assign(Object.entries(counts), { named: true });
  }
  throw new WeftError('DTYPE', `counts: expected a Map, [word, count] pairs or an object of word counts, got ${describe(counts)}`);
}

/**
 * word2vec.c's vocabulary file (SaveVocab): `word count` lines by descending count, first
 * `</s>` with the sentence count (word2vec.c's count of line ends; a corpus token `</s>`
 * adds to it, as word2vec.c counts both as one word).
 */
export function formatVocab(vocab: Vocabulary): string {
  const endOfLine = vocab.index.get(END_OF_LINE);
  const lines = [`${END_OF_LINE} ${vocab.sentences + (endOfLine === undefined ? 0 : vocab.counts[endOfLine])}`];
  for (let i = 0; i < vocab.size; i++) if (i !== endOfLine) lines.push(`${vocab.words[i]} ${vocab.counts[i]}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The counts of a word2vec.c vocabulary file, in file order (`</s>` included): one
 * `word count` line each, blank lines skipped. A line without a count, with more fields, a
 * count that is not a whole number or is negative, or a word listed twice is an error
 * naming the line (word2vec.c's ReadVocab reads such files without a word of warning).
 */
export function parseVocab(text: unknown): Map<string, number> {
  if (typeof text !== 'string') throw new WeftError('DTYPE', `readVocab: expected the file's text (a string), got ${describe(text)}`);
  const counts = new Map<string, number>();
  const lineOf = new Map<string, number>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    const at = `readVocab: line ${n + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) {
      const got = fields.length === 1 ? `only ${JSON.stringify(line)}` : `${fields.length} fields in ${JSON.stringify(line.slice(0, 80))}`;
      throw new WeftError('SHAPE', `${at}: expected "word count", got ${got}`);
    }
    const [word, field] = fields;
    if (!/^[-+]?\d+$/.test(field)) throw new WeftError('SHAPE', `${at}: the count of "${word}" is "${field}", expected a whole number`);
    const count = Number(field);
    if (count < 0 || !Number.isSafeInteger(count)) {
      throw new WeftError('RANGE', `${at}: the count of "${word}" is ${field}, expected an integer in [0, 2^53)`);
    }
    if (counts.has(word)) throw new WeftError('SHAPE', `${at}: "${word}" is listed twice (first on line ${lineOf.get(word)})`);
    counts.set(word, count);
    lineOf.set(word, n + 1);
  }
  return counts;
}

/**
 * word2vec's subsampling as u32 thresholds: a word of count c is kept with probability
 * p = (sqrt(c / (sample T)) + 1) (sample T) / c, T the retained words; kept when a u32
 * draw <= floor(p (2^32 - 1)) (gensim's sample_int); 0xFFFFFFFF (p >= 1, or sample = 0)
 * keeps it without a draw.
 */
export function keepThresholds(vocab: Vocabulary, sample: number): Uint32Array {
  const thresholds = new Uint32Array(vocab.size).fill(0xffffffff);
  if (sample <= 0) return thresholds;
  const threshold = sample * vocab.retainedWords;
  for (let i = 0; i < vocab.size; i++) {
    const c = vocab.counts[i];
    const p = (Math.sqrt(c / threshold) + 1) * (threshold / c);
    if (p < 1) thresholds[i] = Math.floor(p * 4294967295);
  }
  return thresholds;
}
