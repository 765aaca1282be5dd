// Peak probes. One core: GFLOP/s of each WASM build (see assembly/peak.ts for the two
// loop forms); kernels are judged against this number from the same run. Parallel:
// the same loop (peakProbeChains, best build) on 1 and on N worker threads started
// together (bench/peak_worker.ts), the speedup N threads really deliver on this
// machine, which every family's thread speedup is judged against.

import { Worker } from 'node:worker_threads';
import { type KernelInstance, compileKernelModule, instantiateKernels, supportsRelaxedSimd } from '../src/backend/wasm/instantiate.js';
import { fmt, renderTable } from './harness.js';
import { type PeakWorkerMessage, type PeakWorkerReply, SYNC_BYTES, SyncWord } from './peak_protocol.js';

/** peakProbeChains on 1 and on `threads` threads at once, aggregate GFLOP/s (best rounds). */
export interface ParallelPeak {
  /** The build the loop ran in: 'wasm-relaxed' or 'wasm-simd'. */
  label: string;
  threads: number;
  oneThread: number;
  allThreads: number;
  /** allThreads / oneThread. */
  speedup: number;
}

export interface Peak {
  /** f32x4 mul + add, GFLOP/s. */
  simd: number;
  /** f32x4.relaxed_madd, GFLOP/s (undefined when the runtime cannot compile it). */
  relaxed?: number;
  /** Undefined on one thread, or when the probe's workers could not run (the table says why). */
  parallel?: ParallelPeak;
  /** The one-core table, then the parallel one. */
  table: string;
}

/** Flops of one iteration of peakProbeChains (12 chains of f32x4 multiply-add). */
const CHAINS_FLOPS = 96;

function bestOf(runs: number, fn: () => number): number {
  let best = 0;
  for (let r = 0; r < runs; r++) best = Math.max(best, fn());
  return best;
}

function probe({ exports, memory }: KernelInstance, iterations: number, runs: number): { chains: number; loadSplat: number } {
  const operands = (exports.heapBase() + 63) & ~63;
  new Float32Array(memory.buffer, operands, 16).fill(0.5);
  const timed = (body: () => void, flopsPerIteration: number) => () => {
    const t0 = performance.now();
    body();
    return (iterations * flopsPerIteration) / ((performance.now() - t0) * 1e6);
  };
  exports.peakProbeChains({ iterations: 1000, seed: 1 });
  exports.peakProbeLoadSplat({ iterations: 1000, operands });
  return {
    chains: bestOf(runs, timed(() => exports.peakProbeChains({ iterations, seed: 1 }), CHAINS_FLOPS)),
    loadSplat: bestOf(runs, timed(() => exports.peakProbeLoadSplat({ iterations, operands }), 80)),
  };
}

/** The next reply of `worker` (a failure, an error or an exit rejects). */
function nextReply(worker: Worker): Promise<Exclude<PeakWorkerReply, { type: 'failed' }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: PeakWorkerReply) => {
      off();
      if (reply.type === 'failed') reject(new Error(reply.why));
      else resolve(reply);
    };
    const onError = (err: Error) => {
      off();
      reject(err);
    };
    const onExit = (code: number) => {
      off();
      reject(new Error(`a probe worker exited (code ${code})`));
    };
    const off = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** Workers waiting for a round's start arrive within milliseconds; past this, one is lost. */
const ARRIVAL_TIMEOUT_MS = 10_000;

/**
 * One round on `team`: each worker arrives and blocks, the main thread starts them all
 * at once, and the round's GFLOP/s is every thread's flops over the span from the first
 * start to the last end (a late starter counts against it).
 */
async function round(team: Worker[], sync: Int32Array, id: number, iterations: number): Promise<number> {
  Atomics.store(sync, SyncWord.ARRIVED, 0);
  const replies = team.map(nextReply);
  for (const worker of team) worker.postMessage({ type: 'round', round: id, iterations } satisfies PeakWorkerMessage);
  const deadline = performance.now() + ARRIVAL_TIMEOUT_MS;
  for (let arrived = Atomics.load(sync, SyncWord.ARRIVED); arrived < team.length; arrived = Atomics.load(sync, SyncWord.ARRIVED)) {
    if (performance.now() > deadline) throw new Error(`${team.length - arrived} probe workers did not arrive`);
    Atomics.wait(sync, SyncWord.ARRIVED, arrived, 100);
  }
  Atomics.store(sync, SyncWord.GO, id);
  Atomics.notify(sync, SyncWord.GO);
  const done = (await Promise.all(replies)).map((reply) => {
    if (reply.type !== 'done') throw new Error(`a probe worker answered ${reply.type} to a round`);
    return reply;
  });
  const spanMs = Math.max(...done.map((r) => r.end)) - Math.min(...done.map((r) => r.start));
  return (team.length * iterations * CHAINS_FLOPS) / (spanMs * 1e6);
}

/** peakProbeChains of `module` on 1 and on `threads` worker threads, rounds interleaved, best of `runs` each. */
async function measureParallel(module: WebAssembly.Module, label: string, threads: number, iterations: number, runs: number): Promise<ParallelPeak> {
  const sync = new SharedArrayBuffer(SYNC_BYTES);
  // build/peak_worker.js, bundled beside build/bench.js (scripts/build.mjs)
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./peak_worker.js', import.meta.url)));
  try {
    const ready = workers.map(nextReply);
    for (const worker of workers) worker.postMessage({ type: 'init', module, sync } satisfies PeakWorkerMessage);
    await Promise.all(ready);
    const view = new Int32Array(sync);
    let oneThread = 0, allThreads = 0, id = 0;
    for (let r = 0; r < runs; r++) {
      oneThread = Math.max(oneThread, await round(workers.slice(0, 1), view, ++id, iterations));
      allThreads = Math.max(allThreads, await round(workers, view, ++id, iterations));
    }
    return { label, threads, oneThread, allThreads, speedup: allThreads / oneThread };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Both probes; the parallel one on `threads` threads (the N of the benchmarks' thread columns) when > 1. */
export async function measurePeak(quick: boolean, threads: number): Promise<Peak> {
  const iterations = quick ? 5_000_000 : 20_000_000;
  const runs = quick ? 3 : 7;
  const rows: (string | number)[][] = [];
  const simdModule = await compileKernelModule('simd');
  const simd = probe(await instantiateKernels(simdModule), iterations, runs);
  rows.push(['f32x4 mul+add (wasm-simd)', simd.chains, simd.loadSplat, Math.max(simd.chains, simd.loadSplat)]);
  let relaxedPeak: number | undefined;
  let best = { module: simdModule, label: 'wasm-simd' };
  if (supportsRelaxedSimd()) {
    const relaxedModule = await compileKernelModule('relaxed');
    const relaxed = probe(await instantiateKernels(relaxedModule), iterations, runs);
    relaxedPeak = Math.max(relaxed.chains, relaxed.loadSplat);
    rows.push(['f32x4.relaxed_madd (wasm-relaxed)', relaxed.chains, relaxed.loadSplat, relaxedPeak]);
    best = { module: relaxedModule, label: 'wasm-relaxed' };
  }
  const tables = [
    renderTable(
      'Peak probe: one core, GFLOP/s (peak = the larger of the two loop forms)',
      ['instruction', '12 chains', 'load+splat', 'peak'],
      rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c))),
    ),
  ];
  let parallel: ParallelPeak | undefined;
  if (threads > 1) {
    // rounds of ~35 ms (quick) / ~90 ms at 55 GFLOP/s: the start signal's wake-up (~0.1 ms) is noise
    const parallelRuns = quick ? 5 : 9;
    try {
      parallel = await measureParallel(best.module, best.label, threads, quick ? 20_000_000 : 50_000_000, parallelRuns);
      tables.push(renderTable(
        `Parallel peak probe: 12 chains (${parallel.label}) on worker threads started together, aggregate GFLOP/s (best of ${parallelRuns} rounds)`,
        ['threads', 'GFLOP/s', 'per thread', 'speedup'],
        [
          ['1', parallel.oneThread, parallel.oneThread, 1],
          [String(threads), parallel.allThreads, parallel.allThreads / threads, parallel.speedup],
        ],
      ));
    } catch (err) {
      tables.push(`Parallel peak probe skipped: ${(err as Error).message}`);
    }
  }
  return { simd: Math.max(simd.chains, simd.loadSplat), relaxed: relaxedPeak, parallel, table: tables.join('\n\n') };
}
