// `weft eval`: analogy accuracy and word-pair correlations of a word2vec vectors
// file, with gensim's conventions (see src/ops/skipgram/evaluate.ts).

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createWeft, WeftError } from '../index.js';
import type { AnalogyMethod, AnalogyResult, WordPairResult } from '../index.js';
import { numberFlag } from './skipgram.js';
import type { OutputStream } from './progress.js';

export const EVAL_USAGE = `usage: weft eval --vectors <file> [--analogies <questions-words.txt>] [--pairs <pairs.tsv> ...] [options]

  --vectors <file>        word2vec vectors, text or binary (detected)
  --analogies <file>      analogy questions (": section" headers, "a b c d" lines)
  --pairs <file>          word pairs with human scores ("w1<TAB>w2<TAB>score"); repeatable
  --restrict-vocab <n>    use only the n most frequent words (300000, as gensim)
  --method <name>         how analogy questions are answered: 3cosadd | 3cosmul (3cosadd, as gensim)
  --case-sensitive        compare words as written (default: case-insensitive, as gensim)
  --json                  print the results as JSON
  --help, -h              this text
`;

/** The flags parseArgs takes (each one is listed in EVAL_USAGE: tests/cli.test.ts checks). */
export const EVAL_OPTIONS = {
  vectors: { type: 'string' },
  analogies: { type: 'string' },
  pairs: { type: 'string', multiple: true },
  'restrict-vocab': { type: 'string' },
  method: { type: 'string' },
  'case-sensitive': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

interface Report {
  vectors: { file: string; words: number; dim: number };
  analogies?: AnalogyResult;
  pairs: (WordPairResult & { file: string })[];
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The bytes of the file a flag names; an unreadable file is a WeftError naming the flag (as `skipgram --train`). */
function readInput(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new WeftError('OPTION', `--${flag}: cannot read "${path}": ${(err as Error).message}`);
  }
}

/** `run()`, with a WeftError about option `flag` ("evaluateAnalogies: method: ...") reworded to name the flag. */
function withFlag<T>(flag: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof WeftError && err.message.includes(`: ${flag}: `)) throw new WeftError(err.code, `--${flag}: ${err.message.split(`: ${flag}: `)[1]}`);
    throw err;
  }
}

export async function runEvalCommand(args: string[], io: { stdout: OutputStream; stderr: OutputStream } = process): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: EVAL_OPTIONS });
  if (values.help) {
    io.stdout.write(EVAL_USAGE);
    return 0;
  }
  if (!values.vectors || (!values.analogies && !values.pairs?.length)) {
    io.stderr.write(`weft eval: --vectors and at least one of --analogies, --pairs are required\n${EVAL_USAGE}`);
    return 1;
  }
  const options = {
    restrictVocab: numberFlag('restrict-vocab', values['restrict-vocab'], true),
    caseInsensitive: !values['case-sensitive'],
  };
  const weft = await createWeft();
  const report: Report = { vectors: { file: values.vectors, words: 0, dim: 0 }, pairs: [] };
  try {
    const model = weft.skipGram.fromWord2Vec(new Uint8Array(readInput('vectors', values.vectors)));
    report.vectors = { file: values.vectors, words: model.vocab.length, dim: model.dim };
    if (values.analogies) {
      const method = values.method as AnalogyMethod | undefined;
      const text = readInput('analogies', values.analogies).toString('utf8');
      report.analogies = withFlag('method', () => model.evaluateAnalogies(text, { ...options, method }));
    }
    for (const file of values.pairs ?? []) {
      report.pairs.push({ file, ...model.evaluateWordPairs(readInput('pairs', file).toString('utf8'), options) });
    }
  } finally {
    weft.dispose();
  }

  if (values.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const lines = [`${values.vectors}: ${report.vectors.words} words, dim ${report.vectors.dim}`];
  const a = report.analogies;
  if (a) {
    lines.push('', `analogies (${basename(values.analogies!)}): ${pct(a.accuracy)} (${a.correct}/${a.total}), ${a.skipped} questions skipped (unknown words)`);
    const width = Math.max(...a.sections.map((s) => s.section.length));
    for (const s of a.sections) {
      lines.push(`  ${s.section.padEnd(width)}  ${s.total > 0 ? pct(s.accuracy).padStart(7) : '      -'}  ${s.correct}/${s.total}`);
    }
  }
  for (const p of report.pairs) {
    lines.push('', `word pairs (${basename(p.file)}): Spearman ${p.spearman.toFixed(4)}, Pearson ${p.pearson.toFixed(4)}, ` +
      `${p.pairs} pairs, ${pct(p.oov)} skipped (unknown words)`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
