'use strict';
// require('weft-wasm'), copied to dist/index.cjs by scripts/build.mjs: the ES module
// dist/index.js itself, through Node's require of ES modules (20.19+, 22.12+), so require
// and import share one copy of the library (one WeftError class).
try {
  module.exports = require('./index.js');
} catch (err) {
  if (err && err.code === 'ERR_REQUIRE_ESM') {
    throw new Error(
      `weft-wasm: require() of this ES module needs Node 20.19+ or 22.12+ (this is ${process.version}); load it with import instead (a dynamic import from CommonJS)`,
      { cause: err },
    );
  }
  throw err;
}
