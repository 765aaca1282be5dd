// `weft bench [--quick] [--out report/] [--only softmax,attention]`
import { parseArgs } from 'node:util';
import { runBenchmarks } from '../../bench/run.js';

export async function runBenchCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'report' },
      only: { type: 'string' },
    },
    strict: true,
  });
  const only = values.only?.split(',').map((name) => name.trim()).filter(Boolean);
  await runBenchmarks({ quick: values.quick ?? false, out: values.out ?? 'report', only });
  return 0;
}
