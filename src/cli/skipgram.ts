// `weft skipgram`: train word vectors on a text file with word2vec's flags and
// write them in word2vec's binary or text format. Beyond word2vec.c: --save-model and
// --load-model keep and resume the whole training state (weft's model file).

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createWeft, WeftError } from '../index.js';
import type { SkipGramLoss, SkipGramModel, SkipGramOptions, Weft } from '../index.js';
import { StatusLine, formatDuration, formatProgress, type OutputStream } from './progress.js';

export const SKIPGRAM_USAGE = `usage: weft skipgram --train <corpus.txt> --output <vectors> [options]

  --train <file>       text corpus, one sentence per line, words split on whitespace
  --output <file>      where to write the vectors (word2vec format)
  --save-vocab <file>  write the vocabulary ("word count" lines, word2vec.c's format);
                       without --output or --save-model, stop there
  --read-vocab <file>  take the words and counts from this file instead of counting
                       the corpus (--min-count and --max-vocab still apply)
  --save-model <file>  write the training state (a model file) at every epoch's end
  --load-model <file>  start from a model file: finish its run on --train, or train
                       --iter epochs of --train as more text
  --size <n>           vector size (100)
  --window <n>         max skip length between words (5)
  --negative <n>       negative samples per pair (5); 0: none (then --hs 1)
  --hs <0|1>           1: hierarchical softmax (word2vec.c's Huffman tree), beside
                       negative sampling, or alone with --negative 0 (0)
  --cbow <0|1>         1: CBOW, the mean of the context predicts the word; 0: skip-gram
                       (0, where word2vec.c defaults to 1)
  --min-count <n>      discard words that appear fewer times (5)
  --max-vocab <n>      keep at most this many words, the most frequent
  --sample <x>         subsampling threshold for frequent words, 0 = off (1e-3)
  --iter <n>           training epochs (5)
  --alpha <x>          initial learning rate (0.025; 0.05 with --cbow 1)
  --min-alpha <x>      final learning rate (0.0001)
  --loss <name>        negative | sampled-softmax | softmax (negative)
  --num-sampled <n>    candidates per center word for sampled-softmax (64)
  --binary <0|1>       1: binary vectors file, 0: text (0)
  --seed <n>           random seed; the same seed gives the same vectors (1)
  --threads <n>        threads to train on (all cores); more than 1 trains Hogwild,
                       so only --threads 1 gives the same vectors for a seed every run
  --backend <name>     wasm | js (wasm)
  --quiet              no progress output
  --help, -h           this text
`;

/** The flags parseArgs takes (each one is listed in SKIPGRAM_USAGE: tests/cli.test.ts checks). */
export const SKIPGRAM_OPTIONS = {
  train: { type: 'string' },
  output: { type: 'string' },
  'save-vocab': { type: 'string' },
  'read-vocab': { type: 'string' },
  'save-model': { type: 'string' },
  'load-model': { type: 'string' },
  size: { type: 'string' },
  window: { type: 'string' },
  negative: { type: 'string' },
  hs: { type: 'string' },
  cbow: { type: 'string' },
  'min-count': { type: 'string' },
  'max-vocab': { type: 'string' },
  sample: { type: 'string' },
  iter: { type: 'string' },
  alpha: { type: 'string' },
  'min-alpha': { type: 'string' },
  loss: { type: 'string' },
  'num-sampled': { type: 'string' },
  binary: { type: 'string', default: '0' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  backend: { type: 'string', default: 'wasm' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

interface Io {
  stdout: OutputStream;
  stderr: OutputStream;
}

/** A numeric flag, or undefined when absent; WeftError names the flag otherwise. */
export function numberFlag(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new WeftError('OPTION', `--${name}: expected ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  }
  return n;
}

/** The flag that sets each skipGram option, for error messages. */
const FLAG_OF_OPTION: Record<string, string> = {
  dim: 'size', window: 'window', negative: 'negative', minCount: 'min-count', maxVocab: 'max-vocab', sample: 'sample',
  epochs: 'iter', alpha: 'alpha', minAlpha: 'min-alpha', loss: 'loss', numSampled: 'num-sampled', seed: 'seed', workers: 'threads',
  hs: 'hs', architecture: 'cbow',
};

/** A WeftError about a skipGram option ("skipGram: dim: ...") or the corpus, reworded to name the flag ("--size: ..."). */
function withFlagName(err: unknown): unknown {
  if (!(err instanceof WeftError)) return err;
  // "skipGram: dim: ..." from the constructor, "numSampled: ..." / "minCount: ..." from buildVocab
  const option = /^(?:skipGram: )?(\w+): (.*)$/s.exec(err.message);
  if (option && FLAG_OF_OPTION[option[1]]) return new WeftError(err.code, `--${FLAG_OF_OPTION[option[1]]}: ${option[2]}`);
  if (err.message.startsWith('corpus: ')) return new WeftError(err.code, `--train: ${err.message.slice('corpus: '.length)}`);
  return err;
}

export async function runSkipgramCommand(args: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: SKIPGRAM_OPTIONS });
  if (values.help) {
    io.stdout.write(SKIPGRAM_USAGE);
    return 0;
  }
  if (!(values.train || values['load-model']) || !(values.output || values['save-vocab'] || values['save-model'])) {
    io.stderr.write(`weft skipgram: --train (or --load-model) and --output (or --save-vocab, --save-model) are required\n${SKIPGRAM_USAGE}`);
    return 1;
  }
  if (values.binary !== '0' && values.binary !== '1') throw new WeftError('OPTION', `--binary: expected 0 or 1, got "${values.binary}"`);
  for (const flag of ['hs', 'cbow'] as const) {
    if (values[flag] !== undefined && values[flag] !== '0' && values[flag] !== '1') throw new WeftError('OPTION', `--${flag}: expected 0 or 1, got "${values[flag]}"`);
  }
  if (values['load-model'] !== undefined && values['read-vocab'] !== undefined) {
    throw new WeftError('OPTION', '--read-vocab: the vocabulary comes from --load-model\'s file; leave one of them out');
  }
  const threads = numberFlag('threads', values.threads, true);
  if (values.backend !== 'wasm' && values.backend !== 'js') throw new WeftError('OPTION', `--backend: expected wasm or js, got "${values.backend}"`);
  const options: SkipGramOptions = {
    dim: numberFlag('size', values.size, true),
    window: numberFlag('window', values.window, true),
    negative: numberFlag('negative', values.negative, true),
    hs: values.hs === '1',
    architecture: values.cbow === '1' ? 'cbow' : 'skip-gram',
    minCount: numberFlag('min-count', values['min-count'], true),
    maxVocab: numberFlag('max-vocab', values['max-vocab'], true),
    sample: numberFlag('sample', values.sample, false),
    epochs: numberFlag('iter', values.iter, true),
    alpha: numberFlag('alpha', values.alpha, false),
    minAlpha: numberFlag('min-alpha', values['min-alpha'], false),
    loss: values.loss as SkipGramLoss | undefined,
    numSampled: numberFlag('num-sampled', values['num-sampled'], true),
    seed: numberFlag('seed', values.seed, true),
    workers: threads,
  };
  const epochs = options.epochs;
  if (values['load-model'] !== undefined) delete options.epochs; // --iter is the new run's epochs then
  const given = (Object.keys(options) as (keyof SkipGramOptions)[]).filter((key) => {
    const flag = FLAG_OF_OPTION[key];
    return flag !== undefined && values[flag as keyof typeof values] !== undefined;
  });
  const weft = await (async () => createWeft({ backend: values.backend as 'wasm' | 'js', threads: threads ?? 'auto' }))().catch((err) => {
    throw err instanceof WeftError ? new WeftError(err.code, err.message.replace(/^createWeft: threads/, '--threads')) : err;
  });
  try {
    const files = {
      train: values.train, output: values.output, saveVocab: values['save-vocab'], readVocab: values['read-vocab'],
      saveModel: values['save-model'], loadModel: values['load-model'],
    };
    return await train(weft, options, { ...files, quiet: values.quiet, binary: values.binary, epochs, given }, io);
  } finally {
    weft.dispose();
  }
}

interface Files {
  train?: string;
  output?: string;
  saveVocab?: string;
  readVocab?: string;
  saveModel?: string;
  loadModel?: string;
}

interface Run {
  quiet: boolean;
  binary: string;
  /** --iter */
  epochs?: number;
  /** Options set by a flag (not by a default). */
  given: (keyof SkipGramOptions)[];
}

async function train(weft: Weft, options: SkipGramOptions, values: Files & Run, io: Io): Promise<number> {
  const log = (line: string) => {
    if (!values.quiet) io.stderr.write(`${line}\n`);
  };
  const started = performance.now();
  const model = await (async () => {
    if (values.loadModel !== undefined) return loadModelFile(weft, values.loadModel, options, values);
    const corpus = { path: values.train! };
    // word2vec.c's -read-vocab: the file's counts instead of a pass over the corpus
    if (values.readVocab !== undefined) return weft.skipGram(options).buildVocab({ counts: readVocabFile(weft, values.readVocab) });
    return weft.skipGram(options).buildVocab(corpus);
  })().catch((err) => {
    if (err instanceof WeftError && values.readVocab !== undefined && err.message.startsWith('counts')) {
      throw new WeftError(err.code, `--read-vocab: ${values.readVocab}: ${err.message}`);
    }
    throw withFlagName(err);
  });
  const workers = Math.min(options.workers ?? Infinity, weft.features.threads);
  const source = values.readVocab ?? values.loadModel;
  log(`vocabulary: ${model.vocab.length} words${source !== undefined ? ` from ${source}` : ''} ` +
    `(${((performance.now() - started) / 1000).toFixed(1)} s); ` +
    `backend ${weft.backend}${weft.features.relaxedSimd ? ' (relaxed SIMD)' : weft.features.simd ? ' (SIMD)' : ''}, ` +
    `${workers} thread${workers === 1 ? '' : 's'}`);
  if (values.saveVocab !== undefined) {
    writeOutput('save-vocab', values.saveVocab, model.saveVocab());
    log(`wrote the vocabulary to ${values.saveVocab}`);
  }
  if (values.train === undefined || (values.output === undefined && values.saveModel === undefined)) {
    // word2vec.c returns after saving the vocabulary when no -output is given
    if (values.output !== undefined) writeOutput('output', values.output, model.toWord2Vec({ binary: values.binary === '1' }));
    if (values.saveModel !== undefined) writeModel(values.saveModel, model);
    model.dispose();
    return 0;
  }
  const corpus = { path: values.train };
  const resume = model.unfinishedRun;
  if (resume) log(`resuming the run of ${values.loadModel} at epoch ${resume.epochsDone + 1} of ${resume.epochs}`);
  // more text for a trained model: its words per epoch for the learning rate (gensim's total_words)
  const totalWords = values.loadModel !== undefined && !resume ? await countWords(weft, values.train) : undefined;
  const progress = new StatusLine(io.stderr, { throttleMs: 100 });
  const summary = await model.train(corpus, {
    epochs: resume ? undefined : values.epochs,
    totalWords,
    onProgress: (p) => {
      if (!values.quiet) progress.show(formatProgress(p), p.endOfEpoch);
      // a checkpoint at every epoch's end: an interrupted run resumes from the last one
      if (p.endOfEpoch && values.saveModel !== undefined) writeModel(values.saveModel, model);
    },
  });
  progress.finish();
  if (values.output !== undefined) writeOutput('output', values.output, model.toWord2Vec({ binary: values.binary === '1' }));
  const wrote = [values.output, values.saveModel].filter((f) => f !== undefined).join(' and ');
  log(`trained ${summary.words} words (${summary.effectiveWords} after subsampling) in ${formatDuration(summary.seconds)}, ` +
    `${Math.round(summary.wordsPerSec)} words/s; wrote ${wrote}`);
  model.dispose();
  return 0;
}

/** --load-model: the file's model; a flag that disagrees with its options is an error naming both. */
function loadModelFile(weft: Weft, path: string, flags: SkipGramOptions, values: Run): SkipGramModel {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new WeftError('OPTION', `--load-model: cannot read "${path}": ${(err as Error).message}`);
  }
  let model: SkipGramModel;
  try {
    model = weft.skipGram.load(bytes, { workers: flags.workers });
  } catch (err) {
    if (!(err instanceof WeftError)) throw err;
    throw new WeftError(err.code, `--load-model: ${path}: ${err.message.replace(/^load: /, '')}`);
  }
  const stored = model.options;
  for (const key of values.given) {
    if (key === 'workers' || flags[key] === stored[key]) continue;
    model.dispose();
    const flag = FLAG_OF_OPTION[key];
    throw new WeftError('OPTION', `--${flag}: disagrees with --load-model's file (${key}: ${JSON.stringify(stored[key])}); leave it out`);
  }
  const run = model.unfinishedRun;
  if (run && values.epochs !== undefined) {
    model.dispose();
    throw new WeftError('OPTION', `--iter: --load-model resumes the file's run (epoch ${run.epochsDone} of ${run.epochs}); leave it out`);
  }
  return model;
}

/**
 * Corpus words (tokens) of a file: the learning rate's words per epoch when it is more text for
 * a loaded model. Counted by the library's own reader (a vocabulary of every word, one float a
 * word), so the tokens are the ones training reads; importing the reader here would bundle a
 * second copy of it (and of WeftError) into the CLI.
 */
async function countWords(weft: Weft, path: string): Promise<number> {
  const counter = await weft.skipGram({ dim: 1, minCount: 0, hs: false, negative: 1 }).buildVocab({ path });
  let words = 0;
  for (const line of counter.saveVocab().split('\n').slice(1)) if (line) words += Number(line.slice(line.lastIndexOf(' ') + 1));
  counter.dispose();
  return words;
}

/** Write a model file whole or not at all: to a temporary file first, then renamed over the old one. */
function writeModel(path: string, model: SkipGramModel): void {
  writeOutput('save-model', `${path}.tmp`, model.save());
  try {
    renameSync(`${path}.tmp`, path);
  } catch (err) {
    throw new WeftError('OPTION', `--save-model: cannot write "${path}": ${(err as Error).message}`);
  }
}

/** The counts of a vocabulary file; a file that cannot be read, or a bad line, is a WeftError naming the flag. */
function readVocabFile(weft: Weft, path: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new WeftError('OPTION', `--read-vocab: cannot read "${path}": ${(err as Error).message}`);
  }
  try {
    return weft.skipGram.readVocab(text);
  } catch (err) {
    if (!(err instanceof WeftError)) throw err;
    throw new WeftError(err.code, `--read-vocab: ${path}: ${err.message.replace(/^readVocab: /, '')}`);
  }
}

/** Write an output file; one that cannot be written is a WeftError naming the flag. */
function writeOutput(flag: string, path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new WeftError('OPTION', `--${flag}: cannot write "${path}": ${(err as Error).message}`);
  }
}
