import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from '../bench/report.js';
import { fitExponent, renderTable } from '../bench/harness.js';
import { groupedBarChart } from '../bench/plot.js';
import { threadNote } from '../bench/threads.js';
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

  it('judges thread speedups against the peak probe', () => {
    const rows = [
      { family: 'matmul', row: '64x64x64', threads: 2, speedup: 0.99 },
      { family: 'matmul', row: '1024x1024x1024', threads: 2, speedup: 1.9 },
      { family: 'matmul', row: '256x256x256', threads: 2, speedup: 1.2 },
    ];
    const probe = { threads: 2, speedup: 1.98 };
    expect(threadNote('matmul', rows, probe, ['4096x4096x4096', '1024x1024x1024'])).toBe(
      'threads: matmul 1024x1024x1024: 1.90x on 2 threads = 96% of the 1.98x the peak probe reached; 3 rows: median 1.20x (61%), 0.99x-1.90x',
    );
    // without a headline measured, the median row
    expect(threadNote('matmul', rows, probe)).toBe(
      'threads: matmul 256x256x256: 1.20x on 2 threads = 61% of the 1.98x the peak probe reached; 3 rows: median 1.20x (61%), 0.99x-1.90x',
    );
    expect(threadNote('matmul', rows.slice(1, 2), undefined)).toBe(
      'threads: matmul 1024x1024x1024: 1.90x on 2 threads (no parallel peak probe in this run)',
    );
    expect(threadNote('softmax', [], { threads: 2, speedup: 1.98 })).toBe('threads: no softmax row was measured on threads in this mode');
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
          header: ['size', 'GFLOP/s', '2 threads', 'speedup 2/1'],
          rows: [['64', 10, 19, 1.9]],
          threadSpeedups: [{ family: 'demo', row: '64', threads: 2, speedup: 1.9 }],
          plot: groupedBarChart({
            title: 'demo',
            category: { field: 'size', title: 'size', order: ['64'] },
            y: { field: 'g', title: 'GFLOP/s' },
            series: 'impl',
            values: [{ size: '64', impl: 'wasm', g: 10 }],
          }),
        },
      ],
      probe: { threads: 2, speedup: 1.98 },
    });
    expect(written).toEqual([join(out, 'index.md'), join(out, 'demo.svg'), join(out, 'threads.svg')]);
    const md = await readFile(join(out, 'index.md'), 'utf8');
    expect(md).toContain('| size | GFLOP/s | 2 threads | speedup 2/1 |');
    expect(md).toContain('![demo family](demo.svg)');
    expect(md).toContain('2 worker threads at once ran 1.98x its one-thread rate');
    expect(md).toMatch(/!\[Speedup on threads[^\]]*\]\(threads\.svg\)/);
    const svg = await readFile(join(out, 'demo.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('GFLOP/s');
    const threads = await readFile(join(out, 'threads.svg'), 'utf8');
    expect(threads.startsWith('<svg')).toBe(true);
    expect(threads).toContain('peak probe 1.98x');
    expect(threads).toContain('speedup over one thread');
  });

  it('leaves the speedup plot out when no row ran on threads', async () => {
    const out = await mkdtemp(join(tmpdir(), 'weft-report-'));
    const written = await writeReport(out, {
      quick: true, peakTable: 'peak 45', seconds: 1, families: [{ slug: 'demo', title: 'demo family', header: ['size'], rows: [['64']] }],
    });
    expect(written).toEqual([join(out, 'index.md')]);
    expect(await readFile(join(out, 'index.md'), 'utf8')).not.toContain('Speedup on threads');
  });
});
