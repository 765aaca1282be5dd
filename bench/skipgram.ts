// Skip-gram training speed and quality: weft's WASM builds and pure-JS backend against
// gensim (same corpus file, same settings, one worker, same run), then CBOW and
// hierarchical softmax, each beside gensim with the same settings. Words/s counts every
// corpus word read (raw words, gensim's corpus_total_words) over the training time
// (vocabulary building excluded on both sides), by the wall clock and by the process's
// CPU time: on a shared machine the CPU-time rate is the one that does not depend on
// what else runs during each measurement. Quality: questions-words analogy accuracy
// and WordSim-353 Spearman, both with gensim's evaluation conventions.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SkipGramOptions, Weft } from '../src/index.js';
import type { BenchContext, FamilyTable } from './context.js';
import type { Cell } from './harness.js';
import { benchCorpus } from './corpus.js';
import { groupedBarChart } from './plot.js';
import { type GensimResult, type GensimSettings, runGensim } from './peers/gensim.js';
import { ThreadColumns } from './threads.js';

const SETTINGS = { dim: 100, window: 5, negative: 5, sample: 1e-4, minCount: 5, alpha: 0.025, seed: 1 };
/** The other training modes, weft (best build, one thread) beside gensim (corpus_file, one worker) with the same settings. */
const MODES: { label: string; weft: SkipGramOptions; gensim: Partial<GensimSettings> }[] = [
  // word2vec.c's CBOW alpha (gensim's default stays 0.025: set it)
  { label: 'CBOW', weft: { architecture: 'cbow', alpha: 0.05 }, gensim: { cbow: true, alpha: 0.05 } },
  { label: 'hs, negative 0', weft: { hs: true, negative: 0 }, gensim: { hs: true, negative: 0 } },
  { label: 'CBOW, hs, negative 0', weft: { architecture: 'cbow', hs: true, negative: 0, alpha: 0.05 }, gensim: { cbow: true, hs: true, negative: 0, alpha: 0.05 } },
];
/** --quick: a corpus slice and fewer epochs (labelled in the table). */
const QUICK = { words: 400_000, epochs: 3 };
/** Full runs time the pure-JS backend over one epoch and leave out its evaluation (its vectors
 *  equal wasm's up to float rounding, tested): on the 11M-word corpus its five epochs took 12.5
 *  minutes and evaluating them 16 more (each analogy scans all 68K words in JS). */
const FULL = { epochs: 5, jsEpochs: 1 };

function dataFile(name: string): string {
  // bench/ and dist/ both sit one level below the repository root
  return join(fileURLToPath(new URL('..', import.meta.url)), 'data', name);
}

interface Row {
  label: string;
  /** A MODES label, or undefined for skip-gram with negative sampling. */
  mode?: string;
  epochs: number;
  wordsPerSec: number;
  cpuWordsPerSec: number;
  seconds: number;
  /** NaN where the row was timed only (the full run's pure-JS row). */
  correct: number;
  total: number;
  spearman: number;
}

export async function benchSkipgram(ctx: BenchContext): Promise<FamilyTable> {
  const corpus = benchCorpus(ctx.quick ? QUICK.words : undefined);
  const epochs = ctx.quick ? QUICK.epochs : FULL.epochs;
  const questionsPath = dataFile('questions-words.txt');
  const pairsPath = dataFile('wordsim353.tsv');
  const title = `skip-gram training, one thread unless the row says (dim ${SETTINGS.dim}, window ${SETTINGS.window}, negative ${SETTINGS.negative}, ` +
    `sample ${SETTINGS.sample}, minCount ${SETTINGS.minCount}, ${epochs} epochs${ctx.quick ? ', QUICK: corpus slice' : ''}; ` +
    `then CBOW (alpha 0.05) and hierarchical softmax (negative 0), x gensim against gensim in the same mode on one worker)`;
  const threads = new ThreadColumns(ctx, 'skipgram', { headlines: ['training'] });
  const header = ['implementation', 'words/s', 'x gensim', 'words/CPU-s', 'x gensim (CPU)', 'train s', 'analogy %', 'correct/total', 'WS353 rho', ...threads.header(' words/s')];
  if (!corpus) return { slug: 'skipgram', title, header, rows: [], notes: ['skipped: corpus packages missing'] };
  const questions = readFileSync(questionsPath, 'utf8');
  const pairs = readFileSync(pairsPath, 'utf8');

  let vocabSize = 0;
  /** shareNegatives: the threads' pairing; mode: CBOW or hs (MODES); timedOnly: train that many epochs, no evaluation. */
  const train = async (weft: Weft, label: string, opts: { shareNegatives?: boolean; mode?: (typeof MODES)[number]; timedOnly?: { epochs: number } } = {}): Promise<Row> => {
    const { shareNegatives, mode, timedOnly } = opts;
    const rowEpochs = timedOnly?.epochs ?? epochs;
    ctx.progress.show(`skip-gram training, weft ${label}`);
    const model = weft.skipGram({ ...SETTINGS, epochs: rowEpochs, shareNegatives, ...mode?.weft });
    await model.buildVocab({ path: corpus.path });
    vocabSize = model.vocab.length;
    // every thread of the process: the pool's workers count on the CPU clock too
    const cpu = process.cpuUsage();
    const summary = await model.train({ path: corpus.path });
    const { user, system } = process.cpuUsage(cpu);
    const analogies = timedOnly ? { correct: NaN, total: NaN } : model.evaluateAnalogies(questions);
    const row = {
      label: `weft ${label}`, mode: mode?.label, epochs: rowEpochs, wordsPerSec: summary.wordsPerSec, seconds: summary.seconds,
      cpuWordsPerSec: summary.words / ((user + system) / 1e6),
      correct: analogies.correct, total: analogies.total, spearman: timedOnly ? NaN : model.evaluateWordPairs(pairs).spearman,
    };
    model.dispose();
    return row;
  };
  const rows: Row[] = [];
  for (const impl of ctx.impls) {
    const timedOnly = impl.weft.backend === 'js' && !ctx.quick;
    rows.push(await (timedOnly ? train(impl.weft, `${impl.label} (${FULL.jsEpochs} epoch, timed only)`, { timedOnly: { epochs: FULL.jsEpochs } }) : train(impl.weft, impl.label)));
  }
  // on threads training shares each center's noise words (shareNegatives, its default there):
  // one thread doing the same is the like-for-like base of the thread speedup
  const best = ctx.impls[0];
  const sharedRow = best.weft.backend === 'wasm' ? await train(best.weft, `${best.label}, shared negatives`, { shareNegatives: true }) : undefined;
  if (sharedRow) rows.splice(ctx.impls.length, 0, sharedRow);
  const threadedRow = threads.threaded ? await train(threads.threaded.weft, `${threads.threaded.label} (shared negatives)`) : undefined;
  const threadBase = sharedRow ?? rows[0];
  const peers: [string, 'file' | 'iterable'][] = ctx.quick ? [['gensim (corpus_file)', 'file']] : [['gensim (corpus_file)', 'file'], ['gensim (LineSentence)', 'iterable']];
  let gensim = null as GensimResult | null; // set inside gensimRun
  const gensimRun = (label: string, mode: 'file' | 'iterable', workers: number, trainMode?: (typeof MODES)[number]): Row | null => {
    ctx.progress.show(`skip-gram training, ${label}`);
    const result = runGensim({ ...SETTINGS, epochs, corpusPath: corpus.path, questionsPath, pairsPath, mode, workers, ...trainMode?.gensim });
    if (!result) return null;
    gensim ??= result;
    return {
      label: `${label} ${result.version}${trainMode ? `, ${trainMode.label}` : ''}`, mode: trainMode?.label,
      epochs, wordsPerSec: (result.corpusWords * epochs) / result.trainSeconds, seconds: result.trainSeconds,
      cpuWordsPerSec: (result.corpusWords * epochs) / result.cpuSeconds,
      correct: result.analogyCorrect, total: result.analogyTotal, spearman: result.spearman,
    };
  };
  for (const [label, mode] of peers) {
    const row = gensimRun(label, mode, 1);
    if (!row) break;
    rows.push(row);
  }
  // N threads against gensim's N workers (its corpus_file mode is the one that scales)
  let gensimThreaded: Row | null = null;
  if (threadedRow && gensim) {
    const n = threads.threaded!.threads;
    rows.push(threadedRow);
    gensimThreaded = gensimRun(`gensim (corpus_file) workers=${n}`, 'file', n);
    if (gensimThreaded) rows.push(gensimThreaded);
  }
  // CBOW and hierarchical softmax: weft's best build against gensim in the same mode, then
  // (full runs) on N threads against gensim's N workers
  const modeNotes: string[] = [];
  const compare = (ours: Row, theirs: Row, what: string) =>
    `${what}: weft ${(ours.wordsPerSec / theirs.wordsPerSec).toFixed(2)}x gensim's words/s ` +
    `(${(ours.cpuWordsPerSec / theirs.cpuWordsPerSec).toFixed(2)}x per CPU-second), analogy ` +
    `${((100 * ours.correct) / ours.total - (100 * theirs.correct) / theirs.total).toFixed(2)} points and WS353 rho ` +
    `${(ours.spearman - theirs.spearman).toFixed(3)} from gensim with the same settings`;
  for (const mode of MODES) {
    const ours = await train(best.weft, `${best.label}, ${mode.label}`, { mode });
    rows.push(ours);
    const theirs = gensim ? gensimRun('gensim (corpus_file)', 'file', 1, mode) : null;
    if (!theirs) continue;
    rows.push(theirs);
    modeNotes.push(compare(ours, theirs, mode.label));
    if (!threads.threaded || ctx.quick) continue;
    const n = threads.threaded.threads;
    const oursThreaded = await train(threads.threaded.weft, `${threads.threaded.label}, ${mode.label}`, { mode });
    rows.push(oursThreaded);
    const theirsThreaded = gensimRun(`gensim (corpus_file) workers=${n}`, 'file', n, mode);
    if (!theirsThreaded) continue;
    rows.push(theirsThreaded);
    modeNotes.push(compare(oursThreaded, theirsThreaded, `${mode.label}, ${n} threads against ${n} workers`));
  }
  const gensimRow = gensim ? rows.find((r) => r.label.startsWith('gensim')) : undefined;
  const gensimRate = gensimRow?.wordsPerSec;
  /** The gensim row a row's ratios are against: the first one in the same mode. */
  const peerOf = (r: Row) => rows.find((g) => g.label.startsWith('gensim') && g.mode === r.mode);
  const table: Cell[][] = rows.map((r) => {
    const peer = peerOf(r);
    return [
      r.label, r.wordsPerSec, peer ? r.wordsPerSec / peer.wordsPerSec : undefined,
      r.cpuWordsPerSec, peer ? r.cpuWordsPerSec / peer.cpuWordsPerSec : undefined,
      r.seconds, ...(Number.isNaN(r.total) ? [undefined, undefined, undefined] : [(100 * r.correct) / r.total, `${r.correct}/${r.total}`, r.spearman]),
      ...(r === threadBase ? threads.rateCells('training', r.wordsPerSec, threadedRow?.wordsPerSec) : threads.header().map(() => undefined)),
    ];
  });
  const first = rows[0], js = rows.find((r) => r.label.startsWith('weft js'));
  return {
    slug: 'skipgram',
    title,
    header,
    rows: table,
    plot: groupedBarChart({
      title: `skip-gram training words/s, one thread${threadedRow ? ` (and ${threadedRow.label})` : ''} (${corpus.label.split(' (')[0]}, ${epochs} epochs)`,
      category: { field: 'clock', title: '', order: ['wall clock', 'per CPU-second'] },
      y: { field: 'rate', title: 'corpus words / s' },
      series: 'impl',
      values: [...rows, ...(threadedRow ? [threadedRow] : [])].flatMap((r) => [
        { clock: 'wall clock', impl: r.label, rate: r.wordsPerSec },
        { clock: 'per CPU-second', impl: r.label, rate: r.cpuWordsPerSec },
      ]),
    }),
    notes: [
      `corpus: ${corpus.label}; vocabulary ${vocabSize} words${gensim ? ` (gensim: ${gensim.vocab})` : ''}`,
      ...(js ? [`pure JS is ${(first.wordsPerSec / js.wordsPerSec).toFixed(1)}x slower than ${first.label}`] : []),
      ...(gensimRow ? [`${first.label}: ${(first.wordsPerSec / gensimRate!).toFixed(2)}x gensim's words/s (${(first.cpuWordsPerSec / gensimRow.cpuWordsPerSec).toFixed(2)}x per CPU-second), analogy ${((100 * first.correct) / first.total - (100 * gensimRow.correct) / gensimRow.total).toFixed(2)} points from gensim`] : []),
      ...(sharedRow ? [`${sharedRow.label}: ${(sharedRow.wordsPerSec / first.wordsPerSec).toFixed(2)}x the per-pair loop's words/s, analogy ${((100 * sharedRow.correct) / sharedRow.total - (100 * first.correct) / first.total).toFixed(2)} points, WS353 rho ${(sharedRow.spearman - first.spearman).toFixed(3)} from it`] : []),
      ...(threadedRow
        ? [`${threadedRow.label}, Hogwild: ${(threadedRow.wordsPerSec / threadBase.wordsPerSec).toFixed(2)}x ${threadBase.label}'s words/s ` +
          `(${(threadedRow.wordsPerSec / first.wordsPerSec).toFixed(2)}x ${first.label}'s, the one-thread default), ` +
          `analogy ${((100 * threadedRow.correct) / threadedRow.total - (100 * first.correct) / first.total).toFixed(2)} points and ` +
          `WS353 rho ${(threadedRow.spearman - first.spearman).toFixed(3)} from ${first.label}` +
          (gensimThreaded ? `; ${(threadedRow.wordsPerSec / gensimThreaded.wordsPerSec).toFixed(2)}x ${gensimThreaded.label.split(' ').slice(0, 3).join(' ')}'s words/s` : '')]
        : []),
      ...modeNotes,
      ...threads.notes(),
    ],
    threadSpeedups: threads.speedups,
  };
}
