// The ES module consumer: import from 'weft-wasm' (the exports map's import condition).
import { createWeft, WeftError } from 'weft-wasm';
import { smoke } from './smoke.mjs';

console.log(JSON.stringify(await smoke({ createWeft, WeftError })));
