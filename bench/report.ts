// Writes the benchmark report folder: index.md (machine, date, every table), one
// SVG plot per family, and the speedup of every row measured on threads (threads.svg).

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { FamilyTable } from './context.js';
import { renderMarkdownTable } from './harness.js';
import { renderSvg, speedupChart, type VegaLiteSpec } from './plot.js';
import type { ProbeSpeedup } from './context.js';

/** One line describing where the numbers come from. */
export function describeMachine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model?.trim() || 'unknown CPU';
  return `${model}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}-${process.arch}`;
}

export interface ReportInput {
  quick: boolean;
  peakTable: string;
  families: FamilyTable[];
  seconds: number;
  /** The parallel peak probe's N-vs-1 speedup (absent on one thread). */
  probe?: ProbeSpeedup;
}

/** The plot as an image line of index.md (its SVG written to out/<file>), or why it was skipped. */
async function plotSection(out: string, file: string, title: string, spec: VegaLiteSpec, written: string[]): Promise<string> {
  const rendered = await renderSvg(spec);
  if (!('svg' in rendered)) return `(plot skipped: ${rendered.skipped})`;
  await writeFile(join(out, file), rendered.svg);
  written.push(join(out, file));
  return `![${title}](${file})`;
}

/** Write `out/index.md` and `out/<slug>.svg`; returns the written paths. */
export async function writeReport(out: string, input: ReportInput): Promise<string[]> {
  await mkdir(out, { recursive: true });
  const written: string[] = [];
  const sections: string[] = [
    `# weft benchmark report`,
    ``,
    `- date: ${new Date().toISOString()}`,
    `- machine: ${describeMachine()}`,
    `- mode: ${input.quick ? 'quick (`npm start`)' : 'full (`npm run bench`)'}; run time ${input.seconds.toFixed(0)} s`,
    `- every ratio compares implementations measured in this same run (one core each, but the thread columns: the best build on N threads, N = the cores the runtime reports).`,
    ``,
    '```',
    input.peakTable,
    '```',
  ];
  for (const family of input.families) {
    sections.push('', `## ${family.title}`, '', renderMarkdownTable(family.header, family.rows));
    for (const extra of family.extraTables ?? []) {
      sections.push('', `### ${extra.title}`, '', renderMarkdownTable(extra.header, extra.rows));
    }
    for (const note of family.notes ?? []) sections.push('', `- ${note}`);
    if (family.plot) sections.push('', await plotSection(out, `${family.slug}.svg`, family.title, family.plot, written));
  }
  const speedups = input.families.flatMap((family) => family.threadSpeedups ?? []);
  if (speedups.length > 0) {
    const title = 'Speedup on threads: each row measured on 1 and N threads, against the parallel peak probe';
    sections.push(
      '',
      `## ${title}`,
      '',
      input.probe
        ? `The peak probe's loop on ${input.probe.threads} worker threads at once ran ${input.probe.speedup.toFixed(2)}x its one-thread rate: what this machine delivers. Each family's notes give its rows' share of it.`
        : 'No parallel peak probe in this run.',
      '',
      await plotSection(out, 'threads.svg', title, speedupChart({ title: 'speedup over one thread: a line per benchmark row, the peak probe in black', rows: speedups, probe: input.probe }), written),
    );
  }
  const index = join(out, 'index.md');
  await writeFile(index, sections.join('\n') + '\n');
  written.unshift(index);
  return written;
}
