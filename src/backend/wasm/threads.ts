// How many threads a weft instance can use here, and why not more: the option
// (`threads: 'auto' | n`), the cores the runtime reports, and what threads need
// (SharedArrayBuffer, which browsers give only to cross-origin-isolated pages, and Workers).

import { WeftError, describe } from '../../errors.js';
import { isNode, nodeBuiltin } from '../../node_builtin.js';
import { MAX_THREADS } from './pool_control.js';

export type ThreadsOption = 'auto' | number;

/** The headers a page needs for threads (cross-origin isolation). */
export const ISOLATION_HEADERS = 'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';

/** Validate the option: 'auto' or an integer in [1, MAX_THREADS]. */
export function checkThreadsOption(value: unknown): ThreadsOption {
  if (value === undefined || value === 'auto') return 'auto';
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new WeftError('OPTION', `createWeft: threads must be "auto" or an integer >= 1, got ${describe(value)}`);
  }
  if (value < 1 || value > MAX_THREADS) {
    throw new WeftError('RANGE', `createWeft: threads must be in [1, ${MAX_THREADS}], got ${value}`);
  }
  return value;
}

/** The cores the runtime reports (os.availableParallelism in Node, navigator.hardwareConcurrency elsewhere). */
export async function reportedCores(): Promise<number> {
  if (isNode()) {
    try {
      const os = await nodeBuiltin<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
      return Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
    } catch {
      // a Node look-alike without node:os: fall through to navigator
    }
  }
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, typeof cores === 'number' ? cores : 1);
}

/** Why this runtime cannot run worker threads over shared memory, or undefined when it can. */
export function whyNoThreads(): string | undefined {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown; Worker?: unknown };
  if (g.crossOriginIsolated === false) {
    return `this page is not cross-origin isolated, so it has no SharedArrayBuffer; serve it with ${ISOLATION_HEADERS}`;
  }
  if (typeof g.SharedArrayBuffer !== 'function') return 'this runtime has no SharedArrayBuffer';
  if (!isNode() && typeof g.Worker !== 'function') return 'this runtime has no Web Workers';
  return undefined;
}
