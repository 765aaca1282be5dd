import { defineConfig } from 'vitest/config';

// Three projects:
//  - node:    every test, on the JS backend and the plain-SIMD build (and the
//             relaxed build too where the runtime compiles it without a flag);
//  - relaxed: the same tests with --experimental-wasm-relaxed-simd, on the relaxed
//             build only (Node 20 cannot compile it otherwise);
//  - browser: the IIFE bundle in real headless Chromium.
const unit = ['tests/**/*.test.ts'];
const notBrowser = ['tests/browser/**'];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'node', include: unit, exclude: notBrowser, testTimeout: 60_000 } },
      {
        test: {
          name: 'relaxed',
          include: unit,
          exclude: notBrowser,
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
    ],
  },
});
