// Messages between the parallel peak probe (bench/peak.ts) and its worker threads
// (bench/peak_worker.ts), and the words of their shared start signal.

/** i32 words of the probe's SharedArrayBuffer. */
export const SyncWord = {
  /** Workers of the current round that are waiting for the start. */
  ARRIVED: 0,
  /** The round that may start: workers wait until it equals theirs. */
  GO: 1,
} as const;
export const SYNC_BYTES = 8;

export type PeakWorkerMessage =
  | { type: 'init'; module: WebAssembly.Module; sync: SharedArrayBuffer }
  | { type: 'round'; round: number; iterations: number };

export type PeakWorkerReply =
  | { type: 'ready' }
  /** When this thread's loop started and ended, epoch ms (performance.timeOrigin + now()). */
  | { type: 'done'; start: number; end: number }
  | { type: 'failed'; why: string };
