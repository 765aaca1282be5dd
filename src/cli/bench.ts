// `weft bench [--quick] [--out report/]`
import { parseArgs } from 'node:util';
import { runBenchmarks } from '../../bench/run.js';

export async function runBenchCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'report' },
    },
    strict: true,
  });
  await runBenchmarks({ quick: values.quick ?? false, out: values.out ?? 'report' });
  return 0;
}
