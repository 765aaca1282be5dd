// `weft` command line: subcommands dispatch to their modules.
import { runSkipgramCommand } from './skipgram.js';
import { runEvalCommand } from './eval.js';
import { runDemoCommand } from './demo.js';

const USAGE = `usage: weft <command> [options]

commands:
  skipgram --train <corpus> --output <vectors> [...]   train word2vec skip-gram vectors (--help for flags)
  eval --vectors <file> [--analogies <file>] [--pairs <file>]   analogy accuracy, word-pair correlation
  demo [--port 8080]                serve the demo page on 127.0.0.1
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'bench':
      // the benchmarks need the repository's dev dependencies (peers, corpus, plotting)
      process.stderr.write(
        'weft bench: the benchmark report runs from a clone of the repository, not from the installed package\n' +
          '(it compares against peers installed as dev dependencies): clone it, then `npm install && npm start`\n',
      );
      return 1;
    case 'skipgram':
      return runSkipgramCommand(rest);
    case 'eval':
      return runEvalCommand(rest);
    case 'demo':
      return runDemoCommand(rest);
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
