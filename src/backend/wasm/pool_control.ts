// The control block of a thread pool: i32 words (and f64 arguments) in the shared
// kernel memory, written by the caller's thread (pool.ts), the worker threads
// (worker.ts) and the kernels' barrier (assembly/team.ts, which reads the same word
// offsets: TEAM_*_WORD there).

/** Word indices (i32) in the control block. */
export const Word = {
  /** Job generation: bumped for each call; idle workers wait on it. */
  JOB: 0,
  /** Threads in the running call's team (the caller's thread is thread 0). */
  TEAM_SIZE: 1,
  /** Bumped by each worker that finishes a job (the caller waits on it). */
  DONE: 2,
  /** 0, or why the running call failed: ABORT_THREW or ABORT_LOST. */
  ABORT: 3,
  /** The kernels' barrier: threads arrived, and its generation. */
  BARRIER_COUNT: 4,
  BARRIER_GENERATION: 5,
  /** Index of the kernel to run (in the names the workers were given). */
  KERNEL: 6,
  /** Number of f64 arguments at ARGS_BYTE. */
  ARG_COUNT: 7,
  /** 1 while a call runs (a worker lost then aborts it). */
  RUNNING: 8,
  /** 1 once the pool is disposed: workers leave their loop. */
  QUIT: 9,
  /** For tests: the index of a worker that is to crash (throw, uncaught) when it next starts a job. */
  CRASH_FOR_TEST: 10,
  /** Per worker i (1-based): FINISHED + i holds the last job it finished. */
  FINISHED: 16,
  /** Per worker i: ALIVE + i is 1 while it is ready to take jobs, 0 once it stopped. */
  ALIVE: 16 + 64,
  /** Per worker i: START + i holds the job it is to run (a job whose team it is in). */
  START: 16 + 128,
} as const;

/** A worker threw (a trap in a kernel). */
export const ABORT_THREW = 1;
/** A worker stopped (terminated, crashed) during the call. */
export const ABORT_LOST = 2;

/** Most threads a pool runs (the caller's thread included). */
export const MAX_THREADS = 64;
/** Byte offset of the f64 arguments; a kernel takes at most MAX_ARGS. */
export const ARGS_BYTE = 4 * (16 + 3 * 64);
export const MAX_ARGS = 48;
/** Byte offset of the per-thread result slots (one f32 each) of team scans. */
export const SLOTS_BYTE = ARGS_BYTE + 8 * MAX_ARGS;
/** Bytes of a control block. */
export const CONTROL_BYTES = SLOTS_BYTE + 4 * MAX_THREADS;

/** The message a pool sends to start its supervisor, which passes it on to each worker. */
export interface PoolInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block. */
  control: number;
  /** Worker threads to start (the caller's thread is not one). */
  workers: number;
  /** Kernel export names, by the index a job gives. */
  kernels: readonly string[];
  /** The worker script: its source (Node, blob URLs) or a URL. */
  source: string;
  url?: string;
}
