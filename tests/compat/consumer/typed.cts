// The TypeScript consumer: a CommonJS module (.cts) compiled by strict TypeScript without
// skipLibCheck, so the package's declarations are checked as a user's project sees them.
import { createWeft, WeftError } from 'weft-wasm';

async function main(): Promise<void> {
  // node16 keeps import() in CommonJS output: the ES module smoke.mjs loads as it is
  const { smoke } = await import('./smoke.mjs');
  // smoke.d.mts types it against the package's declarations: createWeft and WeftError must fit
  const report = await smoke({ createWeft, WeftError });
  console.log(JSON.stringify(report));
}
void main();
