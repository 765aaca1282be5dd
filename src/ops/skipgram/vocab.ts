// The vocabulary: word counts from one pass over the corpus, then gensim's rules:
// words with count < minCount are dropped, the rest sorted by descending count with
// ties in order of first appearance (gensim's stable sort), at most maxVocab kept.
// Also word2vec's subsampling table.

import { WeftError } from '../../errors.js';

export class Vocabulary {
  /** Words by descending count. */
  readonly words: string[];
  /** counts[i] of words[i]. */
  readonly counts: Float64Array;
  readonly index: Map<string, number>;
  /** Tokens in the corpus the vocabulary was built from, dropped words included (one epoch). */
  readonly corpusWords: number;

  constructor(words: string[], counts: Float64Array, corpusWords: number) {
    this.words = words;
    this.counts = counts;
    this.corpusWords = corpusWords;
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

  add(sentence: readonly string[]): void {
    const counts = this.counts;
    for (const token of sentence) {
      const c = counts.get(token);
      if (c === undefined) counts.set(ownString(token), 1);
      else counts.set(token, c + 1);
    }
    this.tokens += sentence.length;
  }

  /** The vocabulary under gensim's minCount / max_final_vocab rules. */
  finish(minCount: number, maxVocab: number | undefined): Vocabulary {
    if (this.tokens === 0) throw new WeftError('SHAPE', 'corpus: it has no words (empty text or no sentences)');
    const kept: [string, number][] = [];
    let most = 0;
    for (const entry of this.counts) {
      if (entry[1] >= minCount) kept.push(entry);
      most = Math.max(most, entry[1]);
    }
    if (kept.length === 0) {
      throw new WeftError(
        'RANGE',
        `minCount: ${minCount} removes every word (the corpus has ${this.counts.size} distinct words, the most frequent occurs ${most} times)`,
      );
    }
    // Array.prototype.sort is stable: equal counts keep their first-appearance order
    kept.sort((a, b) => b[1] - a[1]);
    if (maxVocab !== undefined && kept.length > maxVocab) kept.length = maxVocab;
    return new Vocabulary(kept.map((e) => e[0]), Float64Array.from(kept, (e) => e[1]), this.tokens);
  }
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
