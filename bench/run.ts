// The benchmark report: peak probe, then each op family, printed as tables.

import { createBenchContext, type FamilyTable } from './context.js';
import { renderTable } from './harness.js';
import { benchMatmul } from './matmul.js';
import { benchSoftmax } from './softmax.js';
import { benchSkipgram } from './skipgram.js';

export interface BenchRunOptions {
  quick: boolean;
  /** Folder for report files (report/index.md). */
  out: string;
}

const FAMILIES: { name: string; run: typeof benchMatmul }[] = [
  { name: 'matmul', run: benchMatmul },
  { name: 'softmax', run: benchSoftmax },
  { name: 'skipgram', run: benchSkipgram },
];

export async function runBenchmarks(options: BenchRunOptions): Promise<FamilyTable[]> {
  const started = performance.now();
  const ctx = await createBenchContext(options.quick);
  console.log(`weft benchmarks (${options.quick ? 'quick' : 'full'}), node ${process.version}, ${new Date().toISOString()}`);
  console.log('\n' + ctx.peak.table + '\n');
  const tables: FamilyTable[] = [];
  for (const family of FAMILIES) {
    const table = await family.run(ctx);
    tables.push(table);
    console.log(renderTable(table.title, table.header, table.rows));
    for (const note of table.notes ?? []) console.log(`  ${note}`);
    console.log('');
  }
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return tables;
}
