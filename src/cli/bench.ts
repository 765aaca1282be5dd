// `weft bench`: the benchmark report is a script of the repository (build/bench.js), not of
// the installed package: it compares against peers installed as dev dependencies and reads
// their corpus. The command says where to run it, and `--help` lists the script's flags
// (tests/cli.test.ts checks they are the ones `node build/bench.js --help` lists).

import type { OutputStream } from './progress.js';

/** The families `--only` takes (bench/run.ts FAMILIES). */
export const BENCH_FAMILIES = ['matmul', 'rnn2d', 'softmax', 'skipgram', 'similarity', 'attention', 'train'];

export const BENCH_USAGE = `usage: weft bench [--quick] [--out <folder>] [--only <families>]

The benchmark report runs from a clone of the repository, not from the installed package
(it compares against peers installed as dev dependencies): clone it, then \`npm install &&
npm start\` (quick) or \`npm run bench\` (full); flags go to node build/bench.js after a build.

  --quick              shorter timings and fewer sizes (npm start)
  --out <folder>       where to write the report (report)
  --only <families>    comma-separated subset of: ${BENCH_FAMILIES.join(', ')}
  --help, -h           this text
`;

export function runBenchCommand(args: string[], io: { stdout: OutputStream; stderr: OutputStream } = process): number {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(BENCH_USAGE);
    return 0;
  }
  io.stderr.write(
    'weft bench: the benchmark report runs from a clone of the repository, not from the installed package\n' +
      '(it compares against peers installed as dev dependencies): clone it, then `npm install && npm start`\n',
  );
  return 1;
}
