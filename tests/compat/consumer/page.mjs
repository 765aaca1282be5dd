// A bundled page's entry, as an app writes it: the package by name, then the shared smoke run,
// whose report (or failure) the compat test reads from window.smokeReport.
import { createWeft, WeftError } from 'weft-wasm';
import { smoke } from './smoke.mjs';

smoke({ createWeft, WeftError }).then(
  (report) => { window.smokeReport = report; },
  (err) => { window.smokeReport = { failure: String((err && err.stack) || err) }; },
);
