import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from '../bench/report.js';
import { fitExponent, renderTable } from '../bench/harness.js';
import { groupedBarChart } from '../bench/plot.js';
import { RELAXED_PROJECT } from './helpers.js';

describe.skipIf(RELAXED_PROJECT)('benchmark report', () => {
  it('fits the exponent of a power law', () => {
    expect(fitExponent([1, 2, 4, 8], [3, 12, 48, 192])).toBeCloseTo(2, 10);
    expect(fitExponent([10, 100, 1000], [5, 50, 500])).toBeCloseTo(1, 10);
  });

  it('renders aligned tables', () => {
    const text = renderTable('t', ['size', 'a'], [['64', 1.23456], ['1024', 12345.6]]);
    expect(text.split('\n')).toEqual(['t', 'size      a', '----  -----', '64     1.23', '1024  12346']);
  });

  it('writes index.md with the tables and an SVG plot per family', async () => {
    const out = await mkdtemp(join(tmpdir(), 'weft-report-'));
    const written = await writeReport(out, {
      quick: true,
      peakTable: 'peak 45',
      seconds: 1,
      families: [
        {
          slug: 'demo',
          title: 'demo family',
          header: ['size', 'GFLOP/s'],
          rows: [['64', 10]],
          plot: groupedBarChart({
            title: 'demo',
            category: { field: 'size', title: 'size', order: ['64'] },
            y: { field: 'g', title: 'GFLOP/s' },
            series: 'impl',
            values: [{ size: '64', impl: 'wasm', g: 10 }],
          }),
        },
      ],
    });
    expect(written).toEqual([join(out, 'index.md'), join(out, 'demo.svg')]);
    const md = await readFile(join(out, 'index.md'), 'utf8');
    expect(md).toContain('| size | GFLOP/s |');
    expect(md).toContain('![demo family](demo.svg)');
    const svg = await readFile(join(out, 'demo.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('GFLOP/s');
  });
});
