// Writes the benchmark report folder: index.md (machine, date, every table) and
// one SVG plot per family.

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { FamilyTable } from './context.js';
import { renderMarkdownTable } from './harness.js';
import { renderSvg } from './plot.js';

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
    `- every ratio compares implementations measured in this same run (one core each).`,
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
    if (family.plot) {
      const rendered = await renderSvg(family.plot);
      if ('svg' in rendered) {
        const file = `${family.slug}.svg`;
        await writeFile(join(out, file), rendered.svg);
        written.push(join(out, file));
        sections.push('', `![${family.title}](${file})`);
      } else {
        sections.push('', `(plot skipped: ${rendered.skipped})`);
      }
    }
  }
  const index = join(out, 'index.md');
  await writeFile(index, sections.join('\n') + '\n');
  written.unshift(index);
  return written;
}
