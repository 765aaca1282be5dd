import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWeft } from '../src/index.js';
import { runSkipgramCommand } from '../src/cli/skipgram.js';
import { runEvalCommand } from '../src/cli/eval.js';
import { StatusLine, formatDuration, formatProgress } from '../src/cli/progress.js';
import type { TrainProgress } from '../src/ops/skipgram/trainer.js';
import { RELAXED_PROJECT, expectWeftErrorAsync, tempDirFixture } from './helpers.js';

class Capture {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

const DATA = join(import.meta.dirname, '../data');

const progress = (over: Partial<TrainProgress>): TrainProgress => ({
  epoch: 2, epochs: 5, progress: 0.431, wordsPerSec: 412_345, alpha: 0.01432, loss: 2.73121, elapsedMs: 9000, endOfEpoch: false, ...over,
});

describe('progress line', () => {
  it('shows percent, words/s, alpha, loss and ETA', () => {
    expect(formatProgress(progress({}))).toBe('epoch 2/5   43.1%  412.3K words/s  alpha 0.014320  loss 2.7312  ETA 0:12');
    expect(formatProgress(progress({ progress: 1, wordsPerSec: 1_234_567, elapsedMs: 3_725_000 }))).toContain('1.23M words/s');
    expect(formatProgress(progress({ progress: 1, elapsedMs: 3_725_000 }))).toContain('took 1:02:05');
    expect(formatDuration(NaN)).toBe('-:--');
  });

  it('rewrites one line on a TTY and prints one line per epoch otherwise', () => {
    const tty = new Capture(true), log = new Capture(false);
    for (const out of [tty, log]) {
      const line = new StatusLine(out, { throttleMs: 100 });
      for (const p of [progress({ epoch: 1, progress: 0.1 }), progress({ epoch: 1, progress: 0.2, endOfEpoch: true }), progress({ epoch: 2, progress: 0.3 })]) {
        line.show(formatProgress(p), p.endOfEpoch);
      }
      line.finish();
    }
    expect(log.text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(log.text).not.toContain('\r');
    expect(tty.text.startsWith('\r')).toBe(true);
    expect(tty.text.endsWith('\n')).toBe(true);
    expect(tty.text.split('\r').length - 1).toBe(3);
  });

  it('logs every step off a TTY when asked (the benchmark report), with the elapsed seconds', () => {
    const tty = new Capture(true), log = new Capture(false);
    for (const out of [tty, log]) {
      const line = new StatusLine(out, { logEvery: true, elapsed: true });
      line.show('peak probe');
      line.show('matmul 256x256x256');
      line.clear();
    }
    expect(log.text).toBe('[  0 s] peak probe\n[  0 s] matmul 256x256x256\n');
    expect(tty.text).toBe('\r\x1b[2K[  0 s] peak probe\r\x1b[2K[  0 s] matmul 256x256x256\r\x1b[2K');
  });
});

describe.skipIf(RELAXED_PROJECT)('weft skipgram / weft eval', () => {
  const dir = tempDirFixture('weft-cli-');
  beforeAll(() => {
    const lee = readFileSync(join(DATA, 'lee_background.cor'), 'utf8').toLowerCase().replace(/[^a-z\n]+/g, ' ');
    writeFileSync(dir.path('lee.txt'), lee);
  });

  it('trains with word2vec flags, writes vectors equal to the library’s, and evaluates them', async () => {
    const stdout = new Capture(), stderr = new Capture();
    const output = dir.path('vectors.bin');
    const code = await runSkipgramCommand(
      ['--train', dir.path('lee.txt'), '--output', output, '--size', '16', '--window', '4', '--negative', '3',
        '--min-count', '4', '--sample', '1e-3', '--iter', '2', '--alpha', '0.03', '--binary', '1', '--seed', '7', '--threads', '1'],
      { stdout, stderr },
    );
    expect(code).toBe(0);
    expect(stderr.text).toMatch(/^vocabulary: \d+ words .*, 1 thread\n/);
    expect(stderr.text.match(/^epoch \d\/2 .*loss \d/gm)).toHaveLength(2);
    expect(stderr.text).toMatch(/words\/s; wrote /);
    // the library on all threads with workers: 1 trains the bits of --threads 1
    const weft = await createWeft();
    const model = weft.skipGram({ dim: 16, window: 4, negative: 3, minCount: 4, sample: 1e-3, epochs: 2, alpha: 0.03, seed: 7, workers: 1 });
    await model.train({ path: dir.path('lee.txt') });
    const written = weft.skipGram.fromWord2Vec(new Uint8Array(readFileSync(output)), { binary: true });
    expect(written.vocab).toEqual(model.vocab);
    expect(written.vectors().data).toEqual(model.vectors().data);

    const report = new Capture();
    const analogies = join(DATA, 'questions-words.txt'), pairs = join(DATA, 'wordsim353.tsv');
    expect(await runEvalCommand(['--vectors', output, '--analogies', analogies, '--pairs', pairs, '--json'], { stdout: report, stderr })).toBe(0);
    const json = JSON.parse(report.text);
    expect(json.analogies).toEqual(model.evaluateAnalogies(readFileSync(analogies, 'utf8')));
    const cosmul = new Capture();
    expect(await runEvalCommand(['--vectors', output, '--analogies', analogies, '--method', '3cosmul', '--json'], { stdout: cosmul, stderr })).toBe(0);
    expect(JSON.parse(cosmul.text).analogies).toEqual(model.evaluateAnalogies(readFileSync(analogies, 'utf8'), { method: '3cosmul' }));
    await expectWeftErrorAsync(() => runEvalCommand(['--vectors', output, '--analogies', analogies, '--method', 'cos'], { stdout: cosmul, stderr }), 'OPTION', /^--method: expected one of "3cosadd", "3cosmul", got "cos"/);
    expect(json.pairs[0].spearman).toBeCloseTo(model.evaluateWordPairs(readFileSync(pairs, 'utf8')).spearman, 12);
    const table = new Capture();
    await runEvalCommand(['--vectors', output, '--analogies', analogies, '--pairs', pairs], { stdout: table, stderr });
    expect(table.text).toMatch(/analogies \(questions-words.txt\): [\d.]+% \(\d+\/\d+\)/);
    expect(table.text).toMatch(/capital-common-countries/);
    expect(table.text).toMatch(/word pairs \(wordsim353.tsv\): Spearman -?[\d.]+, Pearson/);
    model.dispose();
  });

  it('trains on two threads (Hogwild) with --threads 2', async () => {
    const stdout = new Capture(), stderr = new Capture();
    const output = dir.path('hogwild.txt');
    const args = ['--train', dir.path('lee.txt'), '--output', output, '--size', '8', '--iter', '1', '--threads', '2'];
    expect(await runSkipgramCommand(args, { stdout, stderr })).toBe(0);
    expect(stderr.text).toMatch(/, 2 threads\n/);
    const vectors = readFileSync(output, 'utf8').split('\n');
    expect(vectors[0]).toMatch(/^\d+ 8$/);
    expect(vectors.length - 2).toBe(Number(vectors[0].split(' ')[0]));
  });

  for (const [flags, options] of [
    [['--hs', '1', '--negative', '0'], { hs: true, negative: 0 }],
    [['--cbow', '1'], { architecture: 'cbow' }],
  ] as const) {
    it(`trains with ${flags.join(' ')}: the library’s bits`, async () => {
      const io = { stdout: new Capture(), stderr: new Capture() };
      const output = dir.path('modes.bin');
      const args = ['--train', dir.path('lee.txt'), '--output', output, '--size', '12', '--min-count', '4', '--iter', '1', '--binary', '1',
        ...flags, '--threads', '1', '--quiet'];
      expect(await runSkipgramCommand(args, io)).toBe(0);
      const weft = await createWeft({ threads: 1 });
      // --cbow 1 without --alpha: CBOW's default alpha (0.05), as word2vec.c
      const model = weft.skipGram({ dim: 12, minCount: 4, epochs: 1, ...options });
      await model.train({ path: dir.path('lee.txt') });
      expect(weft.skipGram.fromWord2Vec(new Uint8Array(readFileSync(output))).vectors().data).toEqual(model.vectors().data);
      model.dispose();
      weft.dispose();
    });
  }

  it('saves and reads vocabularies with --save-vocab / --read-vocab, as word2vec.c', async () => {
    const io = { stdout: new Capture(), stderr: new Capture() };
    const lee = dir.path('lee.txt'), vocab = dir.path('vocab.txt'), output = dir.path('from-vocab.txt');
    // without --output: the vocabulary only, no training (word2vec.c returns after SaveVocab)
    expect(await runSkipgramCommand(['--train', lee, '--save-vocab', vocab, '--min-count', '4', '--quiet'], io)).toBe(0);
    const weft = await createWeft();
    const model = weft.skipGram({ minCount: 4 }).buildVocab(readFileSync(lee, 'utf8'));
    expect(readFileSync(vocab, 'utf8')).toBe(model.saveVocab());
    model.dispose();
    // --read-vocab: the file's words and counts (min-count applies), not the corpus's
    writeFileSync(vocab, '</s> 300\nthe 5000\nof 3000\nand 2999\nrare 3\n');
    const stderr = new Capture();
    expect(await runSkipgramCommand(['--train', lee, '--read-vocab', vocab, '--output', output, '--min-count', '5', '--size', '4', '--iter', '1', '--threads', '1'], { ...io, stderr })).toBe(0);
    expect(stderr.text).toMatch(/^vocabulary: 3 words from .*vocab\.txt/);
    expect(readFileSync(output, 'utf8').split('\n').slice(0, 4).map((line) => line.split(' ')[0])).toEqual(['3', 'the', 'of', 'and']);
    // both at once: the vocabulary read is the one saved
    const saved = dir.path('saved.txt');
    expect(await runSkipgramCommand(['--train', lee, '--read-vocab', vocab, '--save-vocab', saved, '--min-count', '5', '--quiet'], io)).toBe(0);
    expect(readFileSync(saved, 'utf8')).toBe('</s> 300\nthe 5000\nof 3000\nand 2999\n');
    writeFileSync(vocab, 'the 5\nof x\n');
    await expectWeftErrorAsync(() => runSkipgramCommand(['--train', lee, '--read-vocab', vocab, '--output', output], io), 'SHAPE', /^--read-vocab: .*vocab\.txt: line 2: the count of "of" is "x"/);
    writeFileSync(vocab, '</s> 3\n');
    await expectWeftErrorAsync(() => runSkipgramCommand(['--train', lee, '--read-vocab', vocab, '--output', output], io), 'SHAPE', /^--read-vocab: .*vocab\.txt: counts: no words given/);
    writeFileSync(vocab, 'the 3\n');
    await expectWeftErrorAsync(() => runSkipgramCommand(['--train', lee, '--read-vocab', vocab, '--output', output], io), 'RANGE', /^--min-count: 5 removes every word \(the counts have 1 distinct words/);
    await expectWeftErrorAsync(() => runSkipgramCommand(['--train', lee, '--read-vocab', dir.path('none.txt'), '--output', output], io), 'OPTION', /^--read-vocab: cannot read ".*none\.txt"/);
    await expectWeftErrorAsync(() => runSkipgramCommand(['--train', lee, '--save-vocab', dir.path('no/such/dir.txt')], io), 'OPTION', /^--save-vocab: cannot write ".*dir\.txt"/);
    weft.dispose();
  });

  it('saves the training state with --save-model and goes on from it with --load-model', async () => {
    const io = { stdout: new Capture(), stderr: new Capture() };
    const lee = dir.path('lee.txt'), saved = dir.path('model.weft'), output = dir.path('resumed.bin');
    const more = dir.path('more.txt');
    writeFileSync(more, 'the cat sat on the mat\nthe government said on tuesday\n'.repeat(50));
    const flags = ['--size', '8', '--min-count', '4', '--window', '3', '--seed', '3', '--threads', '1'];
    expect(await runSkipgramCommand(['--train', lee, '--save-model', saved, '--iter', '2', ...flags, '--quiet'], io)).toBe(0);
    const weft = await createWeft();
    const options = { dim: 8, minCount: 4, window: 3, seed: 3, workers: 1 };
    const model = weft.skipGram({ ...options, epochs: 2 });
    await model.train({ path: lee });
    expect(new Uint8Array(readFileSync(saved))).toEqual(model.save());
    // more text: a new run of --iter epochs over the file's words, as the library's train(more, { epochs, totalWords })
    const stderr = new Capture();
    const continued = dir.path('continued.weft');
    expect(await runSkipgramCommand(['--load-model', saved, '--train', more, '--iter', '1', '--save-model', continued, '--size', '8', '--threads', '1'], { ...io, stderr })).toBe(0);
    expect(stderr.text).toMatch(/^vocabulary: \d+ words from .*model\.weft/);
    expect(stderr.text).not.toMatch(/resuming/);
    await model.train({ path: more }, { epochs: 1, totalWords: 11 * 50 });
    expect(new Uint8Array(readFileSync(continued))).toEqual(model.save());
    // an interrupted run (a checkpoint saved at the end of epoch 1 of 3) finishes as the uninterrupted one
    const full = weft.skipGram({ ...options, epochs: 3 });
    await full.train({ path: lee });
    let checkpoint: Uint8Array | undefined;
    const stopped = weft.skipGram({ ...options, epochs: 3 });
    await expect(stopped.train({ path: lee }, {
      onProgress: (p) => {
        if (!p.endOfEpoch) return;
        checkpoint = stopped.save();
        throw new Error('interrupted');
      },
    })).rejects.toThrow('interrupted');
    writeFileSync(saved, checkpoint!);
    const resumed = new Capture();
    expect(await runSkipgramCommand(['--load-model', saved, '--train', lee, '--output', output, '--binary', '1', '--threads', '1'], { ...io, stderr: resumed })).toBe(0);
    expect(resumed.text).toMatch(/resuming the run of .*model\.weft at epoch 2 of 3/);
    expect(resumed.text.match(/^epoch \d\/3 /gm)).toEqual(['epoch 2/3 ', 'epoch 3/3 ']);
    expect(weft.skipGram.fromWord2Vec(new Uint8Array(readFileSync(output))).vectors().data).toEqual(full.vectors().data);
    // without --train: the file's vectors, no training
    const exported = dir.path('exported.txt');
    expect(await runSkipgramCommand(['--load-model', continued, '--output', exported, '--quiet'], io)).toBe(0);
    expect(weft.skipGram.fromWord2Vec(new Uint8Array(readFileSync(exported))).vectors().data).toEqual(model.vectors().data);
    // flags that disagree with the file, and bad files
    const load = ['--load-model', saved, '--train', lee, '--output', output];
    await expectWeftErrorAsync(() => runSkipgramCommand([...load, '--size', '9'], io), 'OPTION', /^--size: disagrees with --load-model's file \(dim: 8\)/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...load, '--cbow', '1'], io), 'OPTION', /^--cbow: disagrees with --load-model's file \(architecture: "skip-gram"\)/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...load, '--iter', '5'], io), 'OPTION', /^--iter: .*\(epoch 1 of 3\)/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...load, '--read-vocab', saved], io), 'OPTION', /^--read-vocab: the vocabulary comes from --load-model/);
    expect(await runSkipgramCommand([...load, '--size', '8', '--seed', '3', '--quiet'], io)).toBe(0); // agreeing flags are fine
    writeFileSync(dir.path('cut.weft'), checkpoint!.subarray(0, 100));
    await expectWeftErrorAsync(() => runSkipgramCommand(['--load-model', dir.path('cut.weft'), '--output', output], io), 'SHAPE', /^--load-model: .*cut\.weft: truncated/);
    await expectWeftErrorAsync(() => runSkipgramCommand(['--load-model', exported, '--output', output], io), 'SHAPE', /^--load-model: .*word2vec vectors file/);
    await expectWeftErrorAsync(() => runSkipgramCommand(['--load-model', dir.path('none.weft'), '--output', output], io), 'OPTION', /^--load-model: cannot read/);
    for (const m of [model, full, stopped]) m.dispose();
    weft.dispose();
  });

  it('rejects missing and malformed flags', async () => {
    const io = { stdout: new Capture(), stderr: new Capture() };
    expect(await runSkipgramCommand(['--train', 'x'], io)).toBe(1);
    expect(io.stderr.text).toMatch(/--train \(or --load-model\) and --output \(or --save-vocab, --save-model\) are required/);
    const train = ['--train', dir.path('lee.txt'), '--output', dir.path('x')];
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--size', 'abc'], io), 'OPTION', /--size: expected an integer, got "abc"/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--binary', '2'], io), 'OPTION', /--binary/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--threads', '0'], io), 'RANGE', /^--threads must be in \[1, 64\], got 0/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--threads', 'x'], io), 'OPTION', /^--threads: expected an integer/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--loss', 'hs'], io), 'OPTION', /^--loss: expected one of "negative"/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--hs', 'yes'], io), 'OPTION', /^--hs: expected 0 or 1/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--negative', '0'], io), 'OPTION', /^--negative: 0 leaves nothing to train; .*--hs 1/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--hs', '1', '--loss', 'softmax'], io), 'OPTION', /^--hs: /);
    // the library's option errors name the flag that set the option
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--size', '0'], io), 'RANGE', /^--size: expected an integer in \[1, 65536\], got 0/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--iter', '0'], io), 'RANGE', /^--iter: /);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--seed', '1e20'], io), 'OPTION', /^--seed: expected a safe integer/);
    await expectWeftErrorAsync(
      () => runSkipgramCommand([...train, '--loss', 'sampled-softmax', '--num-sampled', '100000', '--min-count', '1'], io),
      'RANGE', /^--num-sampled: 100000 candidates need/,
    );
    const missing = dir.path('missing.txt');
    await expectWeftErrorAsync(() => runSkipgramCommand(['--train', missing, '--output', dir.path('x')], io), 'OPTION', /^--train: cannot read ".*missing\.txt"/);
    await expectWeftErrorAsync(() => runEvalCommand(['--vectors', missing, '--pairs', missing], io), 'OPTION', /^--vectors: cannot read ".*missing\.txt"/);
    await expectWeftErrorAsync(() => runSkipgramCommand([...train, '--cbow', '2'], io), 'OPTION', /^--cbow: expected 0 or 1, got "2"/);
    await expect(runSkipgramCommand([...train, '--classes', '10'], io)).rejects.toThrow(/classes/);
    expect(await runEvalCommand(['--vectors', 'x'], io)).toBe(1);
  });
});
