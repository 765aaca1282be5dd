// gensim 4 (Debian's python3-gensim, run by /usr/bin/python3 in a subprocess) as the
// word2vec peer: the same corpus file and settings (skip-gram or CBOW, negative sampling
// and/or hierarchical softmax), one worker (or N), trained in the same benchmark run. Skipped with a message when python3 cannot import gensim.

import { spawnSync } from 'node:child_process';

export const GENSIM_PYTHON = process.env.WEFT_GENSIM_PYTHON ?? '/usr/bin/python3';

export interface GensimSettings {
  corpusPath: string;
  dim: number;
  window: number;
  negative: number;
  sample: number;
  minCount: number;
  epochs: number;
  seed: number;
  questionsPath: string;
  pairsPath: string;
  /** 'file': corpus_file= (Cython reader, one thread); 'iterable': LineSentence (a Python reader thread feeds the worker). */
  mode: 'file' | 'iterable';
  /** gensim's worker threads (1 unless a thread row). */
  workers?: number;
  /** CBOW (sg=0, cbow_mean=1) instead of skip-gram (sg=1). */
  cbow?: boolean;
  /** Hierarchical softmax (hs=1; negative may be 0). */
  hs?: boolean;
  /** Initial learning rate (gensim's default 0.025 otherwise, for CBOW too). */
  alpha?: number;
}

export interface GensimResult {
  version: string;
  vocab: number;
  corpusWords: number;
  trainSeconds: number;
  /** CPU time of the process while training (every thread). */
  cpuSeconds: number;
  analogyCorrect: number;
  analogyTotal: number;
  spearman: number;
}

const SCRIPT = `
import json, sys, time, gensim
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
s = json.loads(sys.argv[1])
model = Word2Vec(vector_size=s['dim'], window=s['window'], negative=s['negative'], sample=s['sample'],
                 min_count=s['minCount'], sg=0 if s.get('cbow') else 1, cbow_mean=1, hs=1 if s.get('hs') else 0,
                 alpha=s.get('alpha', 0.025), workers=s.get('workers', 1), seed=s['seed'])
source = {'corpus_file': s['corpusPath']} if s['mode'] == 'file' else {'corpus_iterable': LineSentence(s['corpusPath'])}
model.build_vocab(**source)
start, cpu = time.perf_counter(), time.process_time()
model.train(**source, total_words=model.corpus_total_words, total_examples=model.corpus_count, epochs=s['epochs'])
seconds, cpuSeconds = time.perf_counter() - start, time.process_time() - cpu
score, sections = model.wv.evaluate_word_analogies(s['questionsPath'])
total = sections[-1]
pearson, spearman, oov = model.wv.evaluate_word_pairs(s['pairsPath'])
print(json.dumps({'version': gensim.__version__, 'vocab': len(model.wv), 'corpusWords': model.corpus_total_words,
  'trainSeconds': seconds, 'cpuSeconds': cpuSeconds, 'analogyCorrect': len(total['correct']),
  'analogyTotal': len(total['correct']) + len(total['incorrect']), 'spearman': spearman.correlation}))
`;

let available: boolean | undefined;

/** True when the peer can run; prints why not once. */
export function gensimAvailable(): boolean {
  if (available === undefined) {
    const probe = spawnSync(GENSIM_PYTHON, ['-c', 'import gensim'], { encoding: 'utf8' });
    available = probe.status === 0;
    if (!available) console.log(`(gensim peer skipped: ${GENSIM_PYTHON} cannot import gensim; apt-get install python3-gensim)`);
  }
  return available;
}

/** Train and evaluate with gensim; null when unavailable or failed (reason printed). */
export function runGensim(settings: GensimSettings): GensimResult | null {
  if (!gensimAvailable()) return null;
  const run = spawnSync(GENSIM_PYTHON, ['-c', SCRIPT, JSON.stringify(settings)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) {
    console.log(`(gensim peer failed: ${run.stderr.trim().split('\n').at(-1)})`);
    return null;
  }
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as GensimResult;
}
