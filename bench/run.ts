// The benchmark report: peak probe, then each op family, printed as tables and
// written to the report folder (index.md + one SVG per family).

import { createBenchContext, disposeBenchContext, type BenchContext, type FamilyTable } from './context.js';
import { renderTable } from './harness.js';
import { benchMatmul } from './matmul.js';
import { benchRnn2d } from './rnn2d.js';
import { StatusLine } from '../src/cli/progress.js';
import { writeReport } from './report.js';
import { benchSoftmax } from './softmax.js';
import { benchSkipgram } from './skipgram.js';
import { benchSimilarity } from './similarity.js';
import { benchAttention } from './attention.js';
import { benchTrain } from './train.js';

export interface BenchRunOptions {
  quick: boolean;
  /** Folder for report files (report/index.md). */
  out: string;
  /** Run only these families (names as in FAMILIES), e.g. while working on one kernel. */
  only?: string[];
}

type Family = (ctx: BenchContext) => Promise<FamilyTable>;

const FAMILIES: Record<string, Family> = {
  matmul: benchMatmul, rnn2d: benchRnn2d, softmax: benchSoftmax, skipgram: benchSkipgram, similarity: benchSimilarity, attention: benchAttention,
  train: benchTrain,
};

/** The names `--only` takes. */
export const FAMILY_NAMES = Object.keys(FAMILIES);

/** The families a run covers: all, or `only` (unknown names are an error). */
export function chooseFamilies(only?: string[]): Family[] {
  if (!only || only.length === 0) return Object.values(FAMILIES);
  const unknown = only.filter((name) => !(name in FAMILIES));
  if (unknown.length > 0) throw new Error(`bench: unknown families ${unknown.join(', ')} (known: ${Object.keys(FAMILIES).join(', ')})`);
  return only.map((name) => FAMILIES[name]);
}

export async function runBenchmarks(options: BenchRunOptions): Promise<FamilyTable[]> {
  const families = chooseFamilies(options.only);
  const started = performance.now();
  const progress = new StatusLine(process.stderr, { logEvery: true, elapsed: true });
  const ctx = await createBenchContext(options.quick, progress);
  const tables: FamilyTable[] = [];
  try {
    progress.clear();
    console.log(`weft benchmarks (${options.quick ? 'quick' : 'full'}), node ${process.version}, ${new Date().toISOString()}`);
    console.log('\n' + ctx.peak.table + '\n');
    for (const family of families) {
      const table = await family(ctx);
      progress.clear();
      tables.push(table);
      for (const t of [table, ...(table.extraTables ?? [])]) console.log(renderTable(t.title, t.header, t.rows) + '\n');
      for (const note of table.notes ?? []) console.log(`  ${note}`);
    }
  } finally {
    disposeBenchContext(ctx);
  }
  const seconds = (performance.now() - started) / 1000;
  progress.show('writing the report');
  const parallel = ctx.peak.parallel;
  const written = await writeReport(options.out, {
    quick: options.quick, peakTable: ctx.peak.table, families: tables, seconds,
    probe: parallel ? { threads: parallel.threads, speedup: parallel.speedup } : undefined,
  });
  progress.clear();
  console.log(`report: ${written.join(', ')}`);
  console.log(`done in ${seconds.toFixed(1)} s`);
  return tables;
}
