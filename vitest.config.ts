import { defineConfig } from 'vitest/config';

// Four projects:
//  - node:    every test, on the JS backend and the plain-SIMD build (and the
//             relaxed build too where the runtime compiles it without a flag);
//  - relaxed: the same tests with --experimental-wasm-relaxed-simd, on the relaxed
//             build only (Node 20 cannot compile it otherwise);
//  - browser: the IIFE bundle in real headless Chromium;
//  - compat:  the packed tarball installed in consumer projects of other runtimes and
//             bundlers (`npm run test:compat` runs it alone).
const unit = ['tests/**/*.test.ts'];
// the browser and compat tests run in projects of their own
const ownProjects = ['tests/browser/**', 'tests/compat/**'];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'node', include: unit, exclude: ownProjects, testTimeout: 60_000 } },
      {
        test: {
          name: 'relaxed',
          include: unit,
          exclude: ownProjects,
          testTimeout: 60_000,
          execArgv: ['--experimental-wasm-relaxed-simd'],
          env: { WEFT_TEST_VARIANTS: 'relaxed' },
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          execArgv: ['--experimental-wasm-relaxed-simd'],
        },
      },
      {
        test: {
          name: 'compat',
          include: ['tests/compat/**/*.test.ts'],
          // a cold fetch of the runtimes and bundlers takes ~20 s; each consumer a few seconds
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
