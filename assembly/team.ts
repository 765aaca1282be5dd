// The thread team a kernel runs on. Every thread of the pool has its own instance of
// this module over one shared memory; a kernel call runs on all the team's threads at
// once (the caller's thread is thread 0), each taking its share of fixed work units,
// and they meet at barriers between phases. Results never depend on the team size:
// work is split so that each output element is computed by one thread in the same
// order whatever the split (see each kernel's header), and reductions run over fixed
// chunks summed in a fixed order.
//
// Globals here are per instance, so per thread: this thread's index, where the pool's
// control block is, and whether this thread may block (a browser's main thread may
// not: it spins). The control block (i32 words, in shared memory, written by the pool
// in src/backend/wasm/pool.ts) holds the team size of the running call, the barrier
// (count, generation) and the abort flag a failed or lost thread raises so that no
// thread waits for it forever.

/** Word offsets in the control block (the pool writes the same layout: src/backend/wasm/pool.ts). */
export const TEAM_SIZE_WORD: i32 = 1;
export const TEAM_BARRIER_COUNT_WORD: i32 = 4;
export const TEAM_BARRIER_GENERATION_WORD: i32 = 5;
export const TEAM_ABORT_WORD: i32 = 3;

/** Spins before a thread that may block waits on the barrier (about 20 us). */
const SPINS_BEFORE_WAIT: i32 = 20000;
/** A waiting thread wakes at least this often (ns) to look at the abort flag. */
const WAIT_SLICE_NS: i64 = 1000000;

let thread: i32 = 0;
let control: usize = 0;
let mayWait: bool = true;

/** Called once per instance by the pool: this thread's index, the control block, whether it may block. */
export function teamJoin(threadIndex: i32, controlBlock: usize, canWait: i32): void {
  thread = threadIndex;
  control = controlBlock;
  mayWait = canWait != 0;
}

// @ts-ignore: decorator
@inline function word(index: i32): usize {
  return control + (<usize>index << 2);
}

/** This thread's index in the team (0: the caller's thread). */
// @ts-ignore: decorator
@inline export function teamThread(): i32 {
  return thread;
}

/** Threads in the running call's team (1 without a pool). */
export function teamSize(): i32 {
  return control == 0 ? 1 : max(1, atomic.load<i32>(word(TEAM_SIZE_WORD)));
}

/** True once a thread of the team failed or was lost: the call's results will be discarded. */
export function teamAborted(): bool {
  return control != 0 && atomic.load<i32>(word(TEAM_ABORT_WORD)) != 0;
}

/** Wait until every thread of the team has arrived (returns at once when alone, or when the call aborted). */
export function teamBarrier(): void {
  const size = teamSize();
  if (size <= 1) return;
  const generation = atomic.load<i32>(word(TEAM_BARRIER_GENERATION_WORD));
  if (atomic.add<i32>(word(TEAM_BARRIER_COUNT_WORD), 1) == size - 1) {
    // the last to arrive resets the count, then releases the others
    atomic.store<i32>(word(TEAM_BARRIER_COUNT_WORD), 0);
    atomic.add<i32>(word(TEAM_BARRIER_GENERATION_WORD), 1);
    atomic.notify(word(TEAM_BARRIER_GENERATION_WORD), size);
    return;
  }
  let spins = 0;
  while (atomic.load<i32>(word(TEAM_BARRIER_GENERATION_WORD)) == generation) {
    if (atomic.load<i32>(word(TEAM_ABORT_WORD)) != 0) return;
    if (mayWait && ++spins > SPINS_BEFORE_WAIT) atomic.wait<i32>(word(TEAM_BARRIER_GENERATION_WORD), generation, WAIT_SLICE_NS);
  }
}

/** Start of this thread's share of `units` work units split into contiguous runs. */
// @ts-ignore: decorator
@inline export function shareStart(units: i32, size: i32, index: i32): i32 {
  return <i32>(<i64>units * index / size);
}

/** The first unit of this thread's share of `units` (its share ends at teamShareEnd). */
export function teamShareStart(units: i32): i32 {
  return shareStart(units, teamSize(), thread);
}

/** One past the last unit of this thread's share of `units`. */
export function teamShareEnd(units: i32): i32 {
  return shareStart(units, teamSize(), thread + 1);
}
