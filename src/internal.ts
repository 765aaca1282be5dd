// Reach from a public Weft object to its backend, for tests and the benchmarks only:
// nothing here is exported by src/index.ts.

import type { Backend } from './backend/types.js';

const backends = new WeakMap<object, Backend>();

/** Record the backend behind a weft object (src/index.ts does, for every instance). */
export function registerBackend(weft: object, backend: Backend): void {
  backends.set(weft, backend);
}

/** The backend behind a weft object. */
export function backendOf(weft: object): Backend {
  const backend = backends.get(weft);
  if (!backend) throw new Error('not a weft instance');
  return backend;
}
