// A pool of worker threads over the kernels' shared memory. A kernel call runs on
// the caller's thread and on the workers of its team at once: the caller writes the
// job (kernel, arguments, team) into the control block (pool_control.ts), wakes the
// workers, runs its own share, then waits until every team member has finished, so
// the API stays synchronous. The kernels split their work and meet at barriers
// (assembly/team.ts); results never depend on the team size.
//
// The workers are started by a supervisor thread (worker.ts), not by the caller's
// thread: the caller is blocked inside a call while it runs, and could not see a worker
// stop; the supervisor can, and aborts the call (the caller then throws WeftError) and
// starts the worker again. Until it is back, calls run on the threads that are.

import { WeftError } from '../../errors.js';
import { ABORT_LOST, ABORT_THREW, ARGS_BYTE, MAX_ARGS, MAX_THREADS, type PoolInit, Word } from './pool_control.js';
import { WORKER_SOURCE } from './worker.generated.js';
import { isNode, nodeBuiltin } from '../../node_builtin.js';

/** How the caller's thread waits for the workers: blocking where allowed, else spinning (a browser's main thread). */
export function callerMayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** How long a browser's supervisor outlives its disposed pool, for its threads to end first (see startSupervisor). */
const SUPERVISOR_GRACE_MS = 1000;

interface Supervisor {
  post(message: unknown): void;
  /** End the supervisor and its threads. */
  quit(): void;
  /** Resolves when every worker is up, rejects with the reason when they cannot start. */
  ready: Promise<void>;
}


async function startSupervisor(init: PoolInit): Promise<Supervisor> {
  let resolveReady!: () => void, rejectReady!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const onMessage = (data: unknown) => {
    const m = data as { type: string; why?: string };
    if (m.type === 'ready') resolveReady();
    else if (m.type === 'failed') rejectReady(new Error(m.why));
  };
  if (isNode()) {
    const { Worker } = await nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads');
    const worker = new Worker(init.source, { eval: true });
    worker.on('message', onMessage);
    worker.on('error', (err) => rejectReady(err));
    // once started, idle workers never keep the process alive (a script that forgets
    // dispose() still exits); while starting, the caller awaits them
    ready.then(() => worker.unref(), () => {});
    worker.postMessage({ ...init, role: 'supervisor' });
    const quit = () => {
      worker.postMessage({ role: 'quit' });
      void worker.terminate();
    };
    return { post: (m) => worker.postMessage(m), quit, ready };
  }
  // The supervisor starts the threads from workerUrl too, and there a relative URL would
  // resolve against the worker script's own URL (dist/weft-worker.js from a page at / asked
  // for /dist/dist/weft-worker.js): resolve it here, against the page's base URL, as `new Worker` does.
  const url = init.url !== undefined ? pageUrl(init.url) : undefined;
  const worker = new Worker(url ?? URL.createObjectURL(new Blob([init.source], { type: 'text/javascript' })));
  worker.onmessage = (event) => onMessage(event.data);
  worker.onerror = (event) => rejectReady(new Error(event.message || 'the worker script could not start'));
  worker.postMessage({ ...init, url, role: 'supervisor' });
  // dispose(): the threads end themselves on QUIT, and the supervisor is terminated a second
  // later, once they have. In Chromium 156, ending it while its threads still ran or were
  // closing (terminate() at once, or the 'quit' message Node gets, on which the supervisor
  // terminates them and closes) left it alive and unresponsive, with all it references (the
  // module, the shared memory): 2-30% of pools created and disposed in a row; none of 200 so.
  const quit = () => void setTimeout(() => worker.terminate(), SUPERVISOR_GRACE_MS);
  return { post: (m) => worker.postMessage(m), quit, ready };
}

/** `url` made absolute against the base URL of the page (or of the worker) that runs createWeft. */
function pageUrl(url: string): string {
  const g = globalThis as { document?: { baseURI: string }; location?: { href: string } };
  const base = g.document?.baseURI ?? g.location?.href;
  return base === undefined ? url : new URL(url, base).href;
}

export interface PoolOptions {
  /** Threads in all, the caller's included (>= 2). */
  threads: number;
  /** A URL of dist/weft-worker.js, for pages whose CSP forbids blob: workers. */
  workerUrl?: string;
  /** Kernel export names, in the order jobs refer to them. */
  kernels: readonly string[];
}

export class ThreadPool {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly callerBlocks = callerMayBlock();
  private disposed = false;

  private constructor(
    private readonly supervisor: Supervisor,
    memory: WebAssembly.Memory,
    control: number,
    /** Worker threads (the caller's thread not counted). */
    readonly workers: number,
  ) {
    this.i32 = new Int32Array(memory.buffer, control, ARGS_BYTE >> 2);
    this.f64 = new Float64Array(memory.buffer, control + ARGS_BYTE, MAX_ARGS);
  }

  /** Start `threads - 1` workers over `memory` (the control block at `control`, zeroed); rejects when they cannot start. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, options: PoolOptions): Promise<ThreadPool> {
    const workers = Math.min(options.threads, MAX_THREADS) - 1;
    const init: PoolInit = { module, memory, control, workers, kernels: options.kernels, source: WORKER_SOURCE, url: options.workerUrl };
    const supervisor = await startSupervisor(init);
    try {
      await supervisor.ready;
    } catch (err) {
      // threads that did start end themselves
      endThreads(new Int32Array(memory.buffer, control, ARGS_BYTE >> 2));
      supervisor.quit();
      throw err;
    }
    return new ThreadPool(supervisor, memory, control, workers);
  }

  /** Threads a call can run on now: the caller's and the workers that are up, counted from worker 1. */
  get liveThreads(): number {
    let threads = 1;
    while (threads <= this.workers && Atomics.load(this.i32, Word.ALIVE + threads) === 1) threads++;
    return threads;
  }

  /**
   * Run kernel `kernel` with `args` on a team of `team` threads (<= liveThreads):
   * `runHere` runs the caller's share and its result is the call's.
   */
  run<T>(kernel: number, args: readonly number[], team: number, runHere: () => T, what: string): T {
    if (this.disposed) throw new WeftError('UNSUPPORTED', `${what}: this weft instance was disposed`);
    const { i32, f64 } = this;
    if (args.length > MAX_ARGS) throw new Error(`weft internal error: ${what} takes ${args.length} arguments (at most ${MAX_ARGS})`);
    for (let i = 0; i < args.length; i++) f64[i] = args[i];
    const job = (Atomics.load(i32, Word.JOB) + 1) | 0;
    Atomics.store(i32, Word.KERNEL, kernel);
    Atomics.store(i32, Word.ARG_COUNT, args.length);
    Atomics.store(i32, Word.TEAM_SIZE, team);
    Atomics.store(i32, Word.ABORT, 0);
    Atomics.store(i32, Word.BARRIER_COUNT, 0);
    Atomics.store(i32, Word.RUNNING, 1);
    for (let index = 1; index < team; index++) Atomics.store(i32, Word.START + index, job);
    Atomics.store(i32, Word.JOB, job);
    Atomics.notify(i32, Word.JOB);
    let result: T | undefined, failure: unknown;
    try {
      result = runHere();
    } catch (err) {
      failure = err;
      // no thread may wait at a barrier for this one
      Atomics.store(i32, Word.ABORT, ABORT_THREW);
      Atomics.notify(i32, Word.BARRIER_GENERATION);
    }
    this.waitForTeam(job, team);
    Atomics.store(i32, Word.RUNNING, 0);
    const abort = Atomics.load(i32, Word.ABORT);
    if (failure !== undefined) throw failure;
    if (abort === ABORT_LOST) {
      throw new WeftError(
        'UNSUPPORTED',
        `${what}: a worker thread stopped during the call, which was abandoned; it is being restarted ` +
          '(calls run on the remaining threads meanwhile, with the same results)',
      );
    }
    if (abort === ABORT_THREW) throw new Error(`weft internal error: ${what} failed on a worker thread`);
    return result as T;
  }

  /** Until every team member finished `job` or stopped (then it can no longer touch memory). */
  private waitForTeam(job: number, team: number): void {
    const { i32 } = this;
    for (;;) {
      const done = Atomics.load(i32, Word.DONE);
      let pending = 0;
      for (let index = 1; index < team; index++) {
        if (Atomics.load(i32, Word.FINISHED + index) !== job && Atomics.load(i32, Word.ALIVE + index) === 1) pending++;
      }
      if (pending === 0) return;
      if (this.callerBlocks) Atomics.wait(i32, Word.DONE, done, 100);
    }
  }

  /** For tests: terminate worker `index` now (the supervisor restarts it). */
  stopThreadForTest(index: number): void {
    this.supervisor.post({ role: 'stop-thread', index });
  }

  /** For tests: worker `index` crashes (an uncaught error) as it starts its next job. */
  crashThreadForTest(index: number): void {
    Atomics.store(this.i32, Word.CRASH_FOR_TEST, index);
  }

  /** End the workers; later calls throw UNSUPPORTED. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    endThreads(this.i32);
    this.supervisor.quit();
  }
}

/** Tell the threads to end: they wake on JOB, see QUIT and end themselves. */
function endThreads(i32: Int32Array): void {
  Atomics.store(i32, Word.QUIT, 1);
  Atomics.add(i32, Word.JOB, 1);
  Atomics.notify(i32, Word.JOB);
}
