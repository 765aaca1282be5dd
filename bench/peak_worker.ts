// One thread of the parallel peak probe (bench/peak.ts): a node:worker_threads worker
// that instantiates the kernel module over a memory of its own and, for each round it
// is in, waits for the common start signal, then runs peakProbeChains and reports
// when it started and finished (epoch ms, comparable across threads).
// Bundled by scripts/build.mjs as build/peak_worker.js, next to build/bench.js.

import { parentPort } from 'node:worker_threads';
import { instantiateKernels } from '../src/backend/wasm/instantiate.js';
import { INITIAL_PAGES, createKernelMemory } from '../src/backend/wasm/memory.js';
import { type PeakWorkerMessage, type PeakWorkerReply, SyncWord } from './peak_protocol.js';

const port = parentPort;
if (!port) throw new Error('bench/peak_worker.ts runs as a worker thread (see bench/peak.ts)');

let run: ((iterations: number) => void) | undefined;
let sync: Int32Array | undefined;

const now = () => performance.timeOrigin + performance.now();

port.on('message', (message: PeakWorkerMessage) => {
  void handle(message).then(
    (reply) => port.postMessage(reply),
    (err: unknown) => port.postMessage({ type: 'failed', why: err instanceof Error ? err.message : String(err) } satisfies PeakWorkerReply),
  );
});

async function handle(message: PeakWorkerMessage): Promise<PeakWorkerReply> {
  if (message.type === 'init') {
    // the loop touches no memory: the module's smallest memory is enough (the module imports a shared one)
    const { exports } = await instantiateKernels(message.module, createKernelMemory(INITIAL_PAGES).memory);
    run = (iterations) => void exports.peakProbeChains({ iterations, seed: 1 });
    run(1000); // compiled and warm before the first timed round
    sync = new Int32Array(message.sync);
    return { type: 'ready' };
  }
  if (!run || !sync) throw new Error('peak worker: a round before init');
  // arrive, then wait (blocked, not spinning) until the main thread starts the round
  Atomics.add(sync, SyncWord.ARRIVED, 1);
  Atomics.notify(sync, SyncWord.ARRIVED);
  for (let go = Atomics.load(sync, SyncWord.GO); go !== message.round; go = Atomics.load(sync, SyncWord.GO)) {
    Atomics.wait(sync, SyncWord.GO, go);
  }
  const start = now();
  run(message.iterations);
  return { type: 'done', start, end: now() };
}
