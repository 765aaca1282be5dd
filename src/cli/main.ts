// `weft` command line: subcommands dispatch to their modules.
import { runSkipgramCommand } from './skipgram.js';
import { runEvalCommand } from './eval.js';
import { runDemoCommand } from './demo.js';
import { runBenchCommand } from './bench.js';
import { VERSION } from '../version.generated.js';

const USAGE = `usage: weft <command> [options]
       weft --version | --help

commands (each takes --help, which lists all its flags):
  skipgram --train <corpus> --output <vectors> [options]
                                    train word2vec skip-gram vectors
  eval --vectors <file> [--analogies <file>] [--pairs <file> ...] [options]
                                    analogy accuracy, word-pair correlation
  demo [--port 8080]                serve the demo page on 127.0.0.1 (from a clone of the repository)
  bench [--quick] [--out <folder>] [--only <families>]
                                    the benchmark report (from a clone of the repository)

options:
  --version, -v                     print the version of weft (the weft-wasm package)
  --help, -h                        this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'bench':
      return runBenchCommand(rest);
    case 'skipgram':
      return runSkipgramCommand(rest);
    case 'eval':
      return runEvalCommand(rest);
    case 'demo':
      return runDemoCommand(rest);
    case '-v':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`weft: unknown command "${command}"\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`weft: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
