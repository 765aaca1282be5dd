// The CommonJS consumer: require('weft-wasm') (the exports map's require condition), then the
// shared smoke run, an ES module, through import().
const { createWeft, WeftError } = require('weft-wasm');

import('./smoke.mjs')
  .then(({ smoke }) => smoke({ createWeft, WeftError }))
  .then((report) => console.log(JSON.stringify(report)));
