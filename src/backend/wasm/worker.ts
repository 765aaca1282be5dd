// The script of a pool's threads, bundled by scripts/build.mjs into a string
// (worker.generated.ts) so it needs no file of its own. One script, two roles:
//  - the supervisor (one per pool, started by the caller's thread) starts the worker
//    threads and watches them: a thread that stops during a call aborts the call (the
//    caller is blocked in it and cannot see the thread go) and is started again;
//  - a worker thread instantiates the kernel module over the shared memory and loops:
//    wait for a job, run its kernel if it is in the job's team, report it finished; it
//    ends itself when the pool quits.
// Runs under Node's worker_threads (an `eval` worker: CommonJS `require`) and as a
// browser Worker. It imports nothing: everything it needs comes in its first message.

import { ABORT_LOST, ABORT_THREW, ARGS_BYTE, MAX_ARGS, type PoolInit, Word } from './pool_control.js';

interface Port {
  post(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  close(): void;
}

interface Child {
  post(message: unknown): void;
  onFailure(handler: (why: string) => void): void;
  terminate(): void;
}

interface Host {
  port: Port;
  spawn(init: PoolInit): Child;
}

declare const require: (name: string) => unknown;
declare const self: {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
};

/** The running environment: Node's worker_threads or a browser worker. */
function host(): Host {
  const isNode = typeof process === 'object' && typeof process.versions === 'object' && !!process.versions.node;
  if (isNode) {
    // an eval worker is CommonJS (require), unless the process runs with
    // --input-type=module (node -e scripts): then only getBuiltinModule (Node >= 20.16) reaches it
    const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const threads = (getBuiltin ? getBuiltin('node:worker_threads') : require('node:worker_threads')) as typeof import('node:worker_threads');
    const parent = threads.parentPort!;
    return {
      port: { post: (m) => parent.postMessage(m), onMessage: (h) => void parent.on('message', h), close: () => process.exit(0) },
      spawn(init) {
        const worker = new threads.Worker(init.source, { eval: true });
        return {
          post: (m) => worker.postMessage(m),
          onFailure(handler) {
            worker.on('error', (err) => handler(err.message));
            worker.on('exit', (code) => handler(`exited with code ${code}`));
          },
          terminate: () => void worker.terminate(),
        };
      },
    };
  }
  let url: string | undefined;
  return {
    port: {
      post: (m) => self.postMessage(m),
      onMessage: (h) => void (self.onmessage = (event) => h(event.data)),
      close: () => self.close(),
    },
    spawn(init) {
      url ??= init.url ?? URL.createObjectURL(new Blob([init.source], { type: 'text/javascript' }));
      const worker = new Worker(url);
      return {
        post: (m) => worker.postMessage(m),
        onFailure(handler) {
          worker.onerror = (event) => handler(event.message || 'failed');
        },
        terminate: () => worker.terminate(),
      };
    },
  };
}

type Message =
  | ({ role: 'supervisor' } & PoolInit)
  | ({ role: 'thread'; index: number } & PoolInit)
  | { role: 'quit' }
  | { role: 'stop-thread'; index: number };

const { port, spawn } = host();
let supervised: Supervisor | undefined;

port.onMessage((message) => {
  const m = message as Message;
  if (m.role === 'supervisor') supervised = new Supervisor(m);
  else if (m.role === 'thread') runThread(m);
  else if (m.role === 'quit') supervised?.quit();
  else if (m.role === 'stop-thread') supervised?.stopThread(m.index);
});

/** Starts the worker threads, restarts one that stops, and aborts the call it was in. */
class Supervisor {
  private readonly i32: Int32Array;
  private readonly threads: (Child | undefined)[] = [];
  private quitting = false;
  private announced = false;

  constructor(private readonly init: PoolInit) {
    this.i32 = new Int32Array(init.memory.buffer, init.control, ARGS_BYTE >> 2);
    for (let index = 1; index <= init.workers; index++) this.start(index);
  }

  private start(index: number): void {
    const child = spawn(this.init);
    this.threads[index] = child;
    child.onFailure((why) => this.lost(index, child, why));
    child.post({ ...this.init, role: 'thread', index });
    this.waitReady(index, child);
  }

  /** Announce the pool once every thread is up (the caller's createWeft waits for it). */
  private waitReady(index: number, child: Child): void {
    const poll = () => {
      if (this.threads[index] !== child || this.quitting) return;
      if (Atomics.load(this.i32, Word.ALIVE + index) !== 1) {
        setTimeout(poll, 1);
        return;
      }
      if (!this.announced && this.everyThreadAlive()) {
        this.announced = true;
        port.post({ type: 'ready' });
      }
    };
    poll();
  }

  private everyThreadAlive(): boolean {
    for (let index = 1; index <= this.init.workers; index++) if (Atomics.load(this.i32, Word.ALIVE + index) !== 1) return false;
    return true;
  }

  private lost(index: number, child: Child, why: string): void {
    // a thread ends itself when the pool quits (the supervisor may not have heard yet)
    if (this.threads[index] !== child || this.quitting || Atomics.load(this.i32, Word.QUIT) === 1) return;
    this.threads[index] = undefined;
    child.terminate(); // a browser worker outlives an uncaught error
    const i32 = this.i32;
    Atomics.store(i32, Word.ALIVE + index, 0);
    if (Atomics.load(i32, Word.RUNNING) === 1 && index < Atomics.load(i32, Word.TEAM_SIZE)) {
      Atomics.store(i32, Word.ABORT, ABORT_LOST);
      Atomics.notify(i32, Word.BARRIER_GENERATION);
    }
    Atomics.add(i32, Word.DONE, 1);
    Atomics.notify(i32, Word.DONE);
    if (!this.announced) {
      port.post({ type: 'failed', why: `worker thread ${index} ${why}` });
      return;
    }
    setTimeout(() => this.quitting || this.start(index), 10);
  }

  /** For tests: stop one worker thread as if it crashed. */
  stopThread(index: number): void {
    this.threads[index]?.terminate();
  }

  quit(): void {
    this.quitting = true;
    for (const child of this.threads) child?.terminate();
    port.close();
  }
}

/** A worker thread: the kernel module over the shared memory, then the job loop (never returns). */
function runThread(m: { index: number } & PoolInit): void {
  const { index, memory, control } = m;
  const imports = {
    env: {
      memory,
      abort(_message: number, _file: number, line: number, column: number): never {
        throw new Error(`WASM kernel aborted at ${line}:${column}`);
      },
    },
  };
  const exports = new WebAssembly.Instance(m.module, imports).exports as Record<string, (...args: number[]) => unknown>;
  (exports.teamJoin as (thread: number, control: number, canWait: number) => void)(index, control, 1);
  const i32 = new Int32Array(memory.buffer, control, ARGS_BYTE >> 2);
  const f64 = new Float64Array(memory.buffer, control + ARGS_BYTE, MAX_ARGS);
  const kernels = m.kernels.map((name) => exports[name]);
  Atomics.store(i32, Word.ALIVE + index, 1);
  let seen = Atomics.load(i32, Word.JOB);
  for (;;) {
    // spin a little first: calls often come back to back (a training loop)
    for (let spin = 0; spin < 4000 && Atomics.load(i32, Word.JOB) === seen; spin++);
    Atomics.wait(i32, Word.JOB, seen);
    const job = Atomics.load(i32, Word.JOB);
    if (job === seen) continue;
    seen = job;
    if (Atomics.load(i32, Word.QUIT) === 1) {
      // end now, before the supervisor is ended (see pool.ts startSupervisor)
      port.close();
      return;
    }
    if (Atomics.load(i32, Word.START + index) !== job) continue; // not in this job's team
    if (Atomics.compareExchange(i32, Word.CRASH_FOR_TEST, index, 0) === index) {
      throw new Error(`weft worker thread ${index}: crashed for a test`); // uncaught, as a real crash
    }
    try {
      const args = Array.from(f64.subarray(0, Atomics.load(i32, Word.ARG_COUNT)));
      kernels[Atomics.load(i32, Word.KERNEL)](...args);
    } catch {
      Atomics.store(i32, Word.ABORT, ABORT_THREW);
      Atomics.notify(i32, Word.BARRIER_GENERATION);
    }
    Atomics.store(i32, Word.FINISHED + index, job);
    Atomics.add(i32, Word.DONE, 1);
    Atomics.notify(i32, Word.DONE);
  }
}
