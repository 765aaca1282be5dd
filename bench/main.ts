// The benchmark report, a development script of the repository (not part of the
// package: it needs the peers, the corpus and the plotting libraries of the dev
// dependencies). `npm start` runs it quick, `npm run bench` in full:
//   node --experimental-wasm-relaxed-simd build/bench.js [--quick] [--out report/] [--only softmax,attention]
import { parseArgs } from 'node:util';
import { FAMILY_NAMES, runBenchmarks } from './run.js';

const USAGE = `usage: node build/bench.js [--quick] [--out report/] [--only <families>]

  --quick              shorter timings and fewer sizes (npm start)
  --out <folder>       where to write the report (report)
  --only <families>    comma-separated subset of: ${FAMILY_NAMES.join(', ')}
  --help               this text
`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'report' },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only?.split(',').map((name) => name.trim()).filter(Boolean);
  await runBenchmarks({ quick: values.quick ?? false, out: values.out ?? 'report', only });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exitCode = 1;
  },
);
