// Corpora for the skip-gram trainer, read as sentences of tokens:
//  - a string: each line is a sentence (gensim's LineSentence), split on whitespace;
//  - an iterable or async iterable of sentences, each a string (split on whitespace)
//    or an array of tokens;
//  - { path } (Node): a text file streamed in 1 MiB chunks, lines as sentences, so
//    neither the file nor one long line (text8 is a single 100 MB line) has to fit in
//    memory as a JS string.
// Sentences longer than MAX_SENTENCE_WORDS tokens are cut into pieces of that size
// (gensim truncates them; cutting keeps every word). Whitespace is Python's str.split()
// set, so tokens match gensim's LineSentence; only '\n' ends a line.

import { WeftError, describe } from '../../errors.js';
import { MAX_SENTENCE_WORDS } from './kernels.js';
import { nodeBuiltin } from '../../node_builtin.js';

/** One sentence: text split on whitespace, or tokens. */
export type Sentence = string | readonly string[];

/** A text file read line by line (Node only: UNSUPPORTED elsewhere). */
export interface CorpusFile {
  /** The file's path (OPTION if it cannot be read). */
  path: string;
}

/**
 * What buildVocab and train read: a string (each line a sentence), an iterable or async
 * iterable of sentences, or a file. train reads it once per epoch: a one-shot iterator is
 * UNSUPPORTED there. DTYPE for a sentence that is neither a string nor an array of strings,
 * SHAPE for a corpus with no words.
 */
export type Corpus = string | Iterable<Sentence> | AsyncIterable<Sentence> | CorpusFile;

/** A corpus whose sentences can be read synchronously. */
export type SyncCorpus = string | Iterable<Sentence>;

function isWhitespace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f) || c === 0x85 || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/**
 * Splits text into sentences. Tokens may not span calls to scan(): the caller cuts
 * its chunks at whitespace. The sentence in progress carries over between calls.
 */
class SentenceScanner {
  private current: string[] = [];

  constructor(private readonly newlineEndsSentence: boolean) {}

  *scan(text: string): Generator<string[]> {
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 10 && this.newlineEndsSentence) {
        if (this.current.length > 0) yield this.take();
        i++;
        continue;
      }
      if (isWhitespace(c)) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < n && !isWhitespace(text.charCodeAt(j))) j++;
      this.current.push(text.slice(i, j));
      if (this.current.length === MAX_SENTENCE_WORDS) yield this.take();
      i = j;
    }
  }

  *finish(): Generator<string[]> {
    if (this.current.length > 0) yield this.take();
  }

  private take(): string[] {
    const sentence = this.current;
    this.current = [];
    return sentence;
  }
}

function* tokenArraySentences(tokens: readonly string[], where: string): Generator<string[]> {
  for (let i = 0; i < tokens.length; i++) {
    if (typeof tokens[i] !== 'string') throw new WeftError('DTYPE', `corpus: ${where}[${i}] must be a string token, got ${describe(tokens[i])}`);
  }
  if (tokens.length <= MAX_SENTENCE_WORDS) {
    if (tokens.length > 0) yield tokens as string[];
    return;
  }
  for (let i = 0; i < tokens.length; i += MAX_SENTENCE_WORDS) yield tokens.slice(i, i + MAX_SENTENCE_WORDS);
}

function* sentencesOfItem(item: unknown, index: number): Generator<string[]> {
  if (typeof item === 'string') {
    const scanner = new SentenceScanner(false);
    yield* scanner.scan(item);
    yield* scanner.finish();
  } else if (Array.isArray(item)) {
    yield* tokenArraySentences(item, `sentence ${index}`);
  } else {
    throw new WeftError('DTYPE', `corpus: sentence ${index} must be a string or an array of tokens, got ${describe(item)}`);
  }
}

function isFile(corpus: unknown): corpus is CorpusFile {
  return typeof corpus === 'object' && corpus !== null && typeof (corpus as CorpusFile).path === 'string' &&
    !(Symbol.iterator in corpus) && !(Symbol.asyncIterator in corpus);
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** Throw unless corpus is one of the accepted forms. */
export function checkCorpus(corpus: unknown): Corpus {
  if (typeof corpus === 'string' || isFile(corpus) || isIterable(corpus) || isAsyncIterable(corpus)) return corpus as Corpus;
  throw new WeftError(
    'DTYPE',
    `corpus: expected a string, an iterable of sentences (strings or token arrays), an async iterable, or { path }, got ${describe(corpus)}`,
  );
}

/** True when the corpus can be read without awaiting (a string or a sync iterable). */
export function isSyncCorpus(corpus: Corpus): corpus is SyncCorpus {
  return typeof corpus === 'string' || (!isFile(corpus) && isIterable(corpus));
}

/**
 * True when iterating the corpus twice gives the same sentences. A generator (an
 * iterator that is its own iterable) gives them once only.
 */
export function isReiterable(corpus: Corpus): boolean {
  if (typeof corpus === 'string' || isFile(corpus)) return true;
  if (isIterable(corpus)) return (corpus[Symbol.iterator]() as unknown) !== corpus;
  return ((corpus as AsyncIterable<Sentence>)[Symbol.asyncIterator]() as unknown) !== corpus;
}

/** The sentences of a string or sync iterable corpus. */
export function* syncSentences(corpus: SyncCorpus): Generator<string[]> {
  if (typeof corpus === 'string') {
    const scanner = new SentenceScanner(true);
    yield* scanner.scan(corpus);
    yield* scanner.finish();
    return;
  }
  let index = 0;
  for (const item of corpus) yield* sentencesOfItem(item, index++);
}

/** The sentences of any corpus. */
export async function* sentences(corpus: Corpus): AsyncGenerator<string[]> {
  if (isSyncCorpus(corpus)) {
    yield* syncSentences(corpus);
  } else if (isFile(corpus)) {
    yield* fileSentences(corpus.path);
  } else {
    let index = 0;
    for await (const item of corpus as AsyncIterable<unknown>) yield* sentencesOfItem(item, index++);
  }
}

const CHUNK_BYTES = 1 << 20;

interface NodeFs {
  createReadStream(path: string, options: { highWaterMark: number }): AsyncIterable<Uint8Array>;
}

async function loadFs(): Promise<NodeFs> {
  try {
    return await nodeBuiltin<NodeFs>('node:fs');
  } catch {
    throw new WeftError('UNSUPPORTED', 'corpus: { path } needs Node (node:fs); in a browser pass the text or an (async) iterable of sentences');
  }
}

/** Index after the last whitespace of text (0 when there is none). */
function afterLastWhitespace(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (isWhitespace(text.charCodeAt(i))) return i + 1;
  return 0;
}

async function* fileSentences(path: string): AsyncGenerator<string[]> {
  const fs = await loadFs();
  const decoder = new TextDecoder('utf-8');
  const scanner = new SentenceScanner(true);
  let carry = '';
  try {
    for await (const chunk of fs.createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
      const text = carry + decoder.decode(chunk, { stream: true });
      // the token at the end of the chunk may continue in the next one
      const cut = afterLastWhitespace(text);
      carry = text.slice(cut);
      yield* scanner.scan(text.slice(0, cut));
    }
  } catch (err) {
    if (err instanceof WeftError) throw err;
    throw new WeftError('OPTION', `corpus: cannot read "${path}": ${(err as Error).message}`);
  }
  yield* scanner.scan(carry + decoder.decode());
  yield* scanner.finish();
}
