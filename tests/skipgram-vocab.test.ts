// Vocabulary files as word2vec.c writes and reads them (-save-vocab / -read-vocab):
// model.saveVocab(), weft.skipGram.readVocab(text), model.buildVocab({ counts }), and
// gensim reading the files.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWeft, type SkipGramModel, type Weft } from '../src/index.js';
import { spawnSync } from 'node:child_process';
import { GENSIM_PYTHON, RELAXED_PROJECT, backendsUnderTest, expectWeftError, hasGensim, runGensimScript, tempDirFixture } from './helpers.js';

const DATA = join(import.meta.dirname, '../data');
const LEE = readFileSync(join(DATA, 'lee_background.cor'), 'utf8')
  .split('\n')
  .map((line) => (line.toLowerCase().match(/[a-z]+/g) ?? []).join(' '))
  .filter((line) => line.length > 0)
  .join('\n');

/** Word counts of a corpus string, in first-appearance order. */
function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.split(/\s+/).filter(Boolean)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

describe.each(backendsUnderTest())('vocabulary files on $label', ({ create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  it('writes word2vec.c’s format: </s> with the sentence count, then word count lines by descending count', () => {
    const corpus = 'b a c a\n\nd b a\n   \ne e e e\nc';
    const model = weft.skipGram({ minCount: 2, dim: 4 }).buildVocab(corpus);
    // 4 non-empty lines; e 4, a 3, then b 2 and c 2 in first-appearance order; d (1) below minCount
    expect(model.saveVocab()).toBe('</s> 4\ne 4\na 3\nb 2\nc 2\n');
    const lines = model.saveVocab().split('\n');
    expect(lines.at(-1)).toBe('');
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^\S+ \d+$/);
    model.dispose();
    // a line cut at 10,000 words counts once per piece
    const long = weft.skipGram({ minCount: 1, dim: 4 }).buildVocab([Array(10001).fill('x')]);
    expect(long.saveVocab()).toBe('</s> 2\nx 10001\n');
    long.dispose();
  });

  it('reads back to the same vocabulary, counts and training (minCount 1: nothing dropped, the same schedule)', async () => {
    const options = { dim: 12, minCount: 1, epochs: 1, seed: 4, workers: 1 };
    const corpus = LEE.split('\n').slice(0, 60).join('\n');
    const counted = weft.skipGram(options).buildVocab(corpus);
    const text = counted.saveVocab();
    const counts = weft.skipGram.readVocab(text);
    expect(counts.get('</s>')).toBe(60);
    const fromFile = weft.skipGram(options).buildVocab({ counts });
    expect(fromFile.vocab).toEqual(counted.vocab);
    expect(fromFile.saveVocab()).toBe(text);
    await counted.train(corpus);
    await fromFile.train(corpus);
    expect(fromFile.vectors().data).toEqual(counted.vectors().data);
    // the counts of the corpus, and ties in the order given
    const expected = countWords(corpus);
    for (const [word, count] of counts) if (word !== '</s>') expect(count).toBe(expected.get(word));
    counted.dispose();
    fromFile.dispose();
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('applies minCount and maxVocab to given counts and takes a Map, pairs or an object', () => {
    const text = '</s> 3\nthe 9\nof 4\ncat 4\nsat 2\nmat 1\n';
    const models: SkipGramModel[] = [];
    const build = (counts: unknown, options = {}) => {
      models.push(weft.skipGram({ dim: 4, minCount: 2, ...options }).buildVocab({ counts: counts as never }));
      return models.at(-1)!;
    };
    expect(build(weft.skipGram.readVocab(text)).vocab).toEqual(['the', 'of', 'cat', 'sat']);
    expect(build(weft.skipGram.readVocab(text), { maxVocab: 2 }).vocab).toEqual(['the', 'of']);
    // equal counts keep the order given; sorted by count otherwise; no </s> needed
    expect(build([['sat', 2], ['cat', 4], ['of', 4], ['the', 9]]).vocab).toEqual(['the', 'cat', 'of', 'sat']);
    expect(build({ dog: 3, log: 5 }).saveVocab()).toBe('</s> 0\nlog 5\ndog 3\n');
    expect(build(new Map([['x', 2]]), { minCount: 0 }).vocab).toEqual(['x']);
    // a corpus token "</s>" is counted with the line ends, as word2vec.c does
    models.push(weft.skipGram({ minCount: 1, dim: 4 }).buildVocab('a </s> b\na'));
    expect(models.at(-1)!.saveVocab()).toBe('</s> 3\na 2\nb 1\n');
    for (const model of models) model.dispose();
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('names the line of a bad vocabulary file and the entry of bad counts', () => {
    const read = (text: string) => () => weft.skipGram.readVocab(text);
    expectWeftError(read('the 3\ncat\n'), 'SHAPE', /^readVocab: line 2: expected "word count", got only "cat"$/);
    expectWeftError(read('the 3\n\ncat 2 x\n'), 'SHAPE', /^readVocab: line 3: expected "word count", got 3 fields in "cat 2 x"/);
    expectWeftError(read('the 3\ncat 2.5\n'), 'SHAPE', /^readVocab: line 2: the count of "cat" is "2.5", expected a whole number/);
    expectWeftError(read('the 3\ncat 1e3\n'), 'SHAPE', /line 2: the count of "cat" is "1e3"/);
    expectWeftError(read('the 3\ncat -2\n'), 'RANGE', /^readVocab: line 2: the count of "cat" is -2, expected an integer in \[0, 2\^53\)/);
    expectWeftError(read('the 3\ncat 99999999999999999999\n'), 'RANGE', /line 2: the count of "cat" is 99999999999999999999/);
    expectWeftError(read('the 3\ncat 2\nthe 1\n'), 'SHAPE', /^readVocab: line 3: "the" is listed twice \(first on line 1\)$/);
    expectWeftError(() => weft.skipGram.readVocab(42 as never), 'DTYPE', /readVocab: expected the file's text \(a string\), got 42/);
    expect(weft.skipGram.readVocab('a 1\r\n\r\n b\t2 \n')).toEqual(new Map([['a', 1], ['b', 2]]));

    const build = (counts: unknown) => () => weft.skipGram({ dim: 4, minCount: 1 }).buildVocab({ counts: counts as never });
    expectWeftError(build([['a', 1], ['b', -1]]), 'RANGE', /^counts\[1\]: the count of "b" is -1, expected an integer >= 0$/);
    expectWeftError(build([['a', 1], ['b', 1.5]]), 'RANGE', /counts\[1\]: the count of "b" is 1.5/);
    expectWeftError(build([['a', 1], ['a', 2]]), 'RANGE', /^counts\[1\]: "a" is given twice \(first at counts\[0\]\)$/);
    expectWeftError(build([['a', 1], ['b']]), 'DTYPE', /counts\[1\] must be a \[word, count\] pair, got \["b"\]/);
    expectWeftError(build([[3, 1]]), 'DTYPE', /counts\[0\]: the word must be a string, got 3/);
    expectWeftError(build([['a b', 1]]), 'RANGE', /counts\[0\]: the word "a b" is empty or contains whitespace/);
    expectWeftError(build({ a: '3' }), 'DTYPE', /counts\["a"\]: the count of "a" must be a number, got "3"/);
    expectWeftError(build(new Map([['a', NaN]])), 'RANGE', /counts\["a"\]: the count of "a" is NaN/);
    expectWeftError(build('a 1\nb 2'), 'DTYPE', /counts: expected word counts, got a string \(a vocabulary file's text goes through weft.skipGram.readVocab\)/);
    expectWeftError(build(7), 'DTYPE', /counts: expected a Map, \[word, count\] pairs or an object of word counts, got 7/);
    expectWeftError(build([]), 'SHAPE', /counts: no words given/);
    expectWeftError(build([['</s>', 4]]), 'SHAPE', /counts: no words given/);
    expectWeftError(() => weft.skipGram({ minCount: 5 }).buildVocab({ counts: { a: 2, b: 3 } }), 'RANGE', /minCount: 5 removes every word \(the counts have 2 distinct words, the most frequent occurs 3 times\)/);
    // loaded vectors have no counts; no vocabulary has none to save
    const loaded = weft.skipGram.fromWord2Vec(new TextEncoder().encode('1 2\nx 1 2\n'));
    expectWeftError(() => loaded.saveVocab(), 'UNSUPPORTED', /loaded from word2vec vectors, which carry no word counts/);
    expectWeftError(() => loaded.buildVocab({ counts: { a: 1 } }), 'UNSUPPORTED', /loaded from word2vec/);
    expectWeftError(() => weft.skipGram().saveVocab(), 'UNSUPPORTED', /no vocabulary yet/);
    expect(weft.memory().liveBytes).toBe(0);
  });
});

describe.skipIf(!hasGensim || RELAXED_PROJECT)('vocabulary files and gensim', () => {
  const dir = tempDirFixture('weft-vocab-');

  it('gensim reads our file as fvocab and builds the same vocabulary from its counts', async () => {
    const weft = await createWeft();
    const model = weft.skipGram({ dim: 8, minCount: 5, epochs: 1, seed: 2 });
    await model.train(LEE);
    writeFileSync(dir.path('vectors.txt'), model.toWord2Vec());
    writeFileSync(dir.path('vocab.txt'), model.saveVocab());
    const script = `
import json, sys
from gensim.models import KeyedVectors, Word2Vec
d = sys.argv[1]
kv = KeyedVectors.load_word2vec_format(d + '/vectors.txt', fvocab=d + '/vocab.txt', binary=False)
counts = {}
for line in open(d + '/vocab.txt', encoding='utf8'):
    word, count = line.split()
    if word != '</s>':
        counts[word] = int(count)
w2v = Word2Vec(vector_size=8, min_count=30, sg=1)
w2v.build_vocab_from_freq(counts)
print(json.dumps({
  'fvocab': [[w, int(kv.get_vecattr(w, 'count'))] for w in kv.index_to_key],
  'fromFreq': [[w, int(w2v.wv.get_vecattr(w, 'count'))] for w in w2v.wv.index_to_key],
}))`;
    const gensim = runGensimScript(script, [dir.path()]) as { fvocab: [string, number][]; fromFreq: [string, number][] };
    const ours = model.saveVocab().trim().split('\n').slice(1).map((line) => line.split(' ')).map(([w, c]): [string, number] => [w, Number(c)]);
    expect(gensim.fvocab).toEqual(ours);
    // min_count 30 on both sides; gensim's sort is not stable, so compare ties as sets
    const rebuilt = weft.skipGram({ minCount: 30, dim: 8 }).buildVocab({ counts: weft.skipGram.readVocab(model.saveVocab()) });
    const again = rebuilt.saveVocab().trim().split('\n').slice(1).map((line) => line.split(' ')).map(([w, c]): [string, number] => [w, Number(c)]);
    const byCount = (pairs: [string, number][]) => [...pairs].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    expect(byCount(gensim.fromFreq)).toEqual(byCount(again));
    expect(gensim.fromFreq.map(([, c]) => c)).toEqual(again.map(([, c]) => c));
    model.dispose();
    rebuilt.dispose();
    weft.dispose();
  });

  it('reads the vocabulary file gensim writes (save_word2vec_format fvocab) beside its vectors', async () => {
    const script = `
import json, sys
from gensim.models import Word2Vec
d = sys.argv[1]
sentences = [line.split() for line in sys.stdin.read().split('\\n') if line]
w2v = Word2Vec(sentences, vector_size=6, min_count=5, sg=1, epochs=1, workers=1, seed=3)
w2v.wv.save_word2vec_format(d + '/gensim.bin', fvocab=d + '/gensim.vocab', binary=True)
print(json.dumps([[w, int(w2v.wv.get_vecattr(w, 'count'))] for w in w2v.wv.index_to_key]))`;
    const run = spawnSync(GENSIM_PYTHON, ['-c', script, dir.path()], { input: LEE, encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const gensim = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as [string, number][];
    const weft = await createWeft();
    // `word count` lines without word2vec.c's </s>: the counts, in gensim's order
    const counts = weft.skipGram.readVocab(readFileSync(dir.path('gensim.vocab'), 'utf8'));
    expect([...counts]).toEqual(gensim);
    const model = weft.skipGram({ dim: 6, minCount: 5 }).buildVocab({ counts });
    const vectors = weft.skipGram.fromWord2Vec(new Uint8Array(readFileSync(dir.path('gensim.bin'))));
    expect(model.vocab).toEqual(vectors.vocab);
    expect(model.vocab).toEqual(gensim.map(([w]) => w));
    // written back: gensim's lines, after word2vec.c's </s> line (which gensim's fvocab reader leaves unused)
    expect(model.saveVocab().split('\n').slice(1, -1)).toEqual(gensim.map(([w, c]) => `${w} ${c}`));
    model.dispose();
    weft.dispose();
  });
});
