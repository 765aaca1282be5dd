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

/** One similarity query as gensim's KeyedVectors takes it. */
export interface GensimQuery {
  /** 'most_similar' or 'most_similar_cosmul'. */
  method: 'most_similar' | 'most_similar_cosmul';
  positive: string[];
  negative: string[];
  topn: number;
}

export interface GensimQueryTimes {
  version: string;
  /** ms of each query (the mean of timeit runs), in the order given. */
  ms: number[];
  /** ms of evaluate_word_analogies on the questions file (one run), when given. */
  analogiesMs?: number;
  analogiesCorrect?: number;
  /** ms of the first query, which computes the vector norms (fill_norms). */
  firstMs: number;
}

const QUERY_SCRIPT = `
import json, sys, time, timeit, gensim
from gensim.models import KeyedVectors
s = json.loads(sys.argv[1])
kv = KeyedVectors.load_word2vec_format(s['vectorsPath'], binary=True)
q0 = s['queries'][0]
start = time.perf_counter()
getattr(kv, q0['method'])(positive=q0['positive'], negative=q0['negative'], topn=q0['topn'])
first = (time.perf_counter() - start) * 1e3
ms = []
for q in s['queries']:
    f = lambda: getattr(kv, q['method'])(positive=q['positive'], negative=q['negative'], topn=q['topn'])
    runs = max(3, int(0.3 / max(1e-4, timeit.timeit(f, number=1))))
    ms.append(timeit.timeit(f, number=runs) / runs * 1e3)
out = {'version': gensim.__version__, 'ms': ms, 'firstMs': first}
if s.get('questionsPath'):
    start = time.perf_counter()
    score, sections = kv.evaluate_word_analogies(s['questionsPath'])
    out['analogiesMs'] = (time.perf_counter() - start) * 1e3
    out['analogiesCorrect'] = len(sections[-1]['correct'])
print(json.dumps(out))
`;

/**
 * Time KeyedVectors queries on a binary word2vec file; null when gensim is unavailable or
 * failed (reason printed). `oneThread`: OpenBLAS (Debian numpy's BLAS, which runs a large
 * mat-vec on every core) limited to one thread, for the one-thread columns.
 */
export function timeGensimQueries(vectorsPath: string, queries: GensimQuery[], options: { questionsPath?: string; oneThread: boolean }): GensimQueryTimes | null {
  if (!gensimAvailable()) return null;
  const env = options.oneThread ? { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } : process.env;
  const args = JSON.stringify({ vectorsPath, queries, questionsPath: options.questionsPath });
  const run = spawnSync(GENSIM_PYTHON, ['-c', QUERY_SCRIPT, args], { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (run.status !== 0) {
    console.log(`(gensim query peer failed: ${run.stderr.trim().split('\n').at(-1)})`);
    return null;
  }
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as GensimQueryTimes;
}
