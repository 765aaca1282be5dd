// SVG plots for the report: vega-lite specs compiled and rendered headless by
// vega (no canvas needed for SVG). Both are dev dependencies, loaded on demand:
// without them the report keeps its tables and says the plots were skipped.

export type VegaLiteSpec = Record<string, unknown>;

/** Render a vega-lite spec to an SVG string, or return null (with the reason) when vega is missing. */
export async function renderSvg(spec: VegaLiteSpec): Promise<{ svg: string } | { skipped: string }> {
  let vega: typeof import('vega');
  let vl: typeof import('vega-lite');
  try {
    vega = await import('vega');
    vl = await import('vega-lite');
  } catch (err) {
    return { skipped: `vega/vega-lite not installed (${(err as Error).message.split('\n')[0]})` };
  }
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', ...spec } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return { svg };
}

/** A log-log line chart of y vs x, one line per series, with optional horizontal reference lines. */
export function lineChart(options: {
  title: string;
  x: { field: string; title: string; log?: boolean };
  y: { field: string; title: string; log?: boolean };
  series: string;
  values: Record<string, unknown>[];
  rules?: { y: number; label: string }[];
}): VegaLiteSpec {
  const line = {
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: options.x.field, type: 'quantitative', title: options.x.title, scale: { type: options.x.log ? 'log' : 'linear' } },
      y: { field: options.y.field, type: 'quantitative', title: options.y.title, scale: { type: options.y.log ? 'log' : 'linear' } },
      color: { field: options.series, type: 'nominal', title: null, legend: { labelLimit: 320 } },
    },
  };
  const layers: Record<string, unknown>[] = [line];
  if (options.rules?.length) {
    layers.push({
      data: { values: options.rules },
      mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    });
    layers.push({
      data: { values: options.rules },
      mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: 'gray' },
      encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
    });
  }
  return {
    title: options.title,
    width: 520,
    height: 300,
    data: { values: options.values },
    layer: layers,
  };
}

/** Grouped bars: one group per category, one bar per series, optional horizontal reference lines. */
export function groupedBarChart(options: {
  title: string;
  category: { field: string; title: string; order: string[] };
  y: { field: string; title: string };
  series: string;
  values: Record<string, unknown>[];
  rules?: { y: number; label: string }[];
}): VegaLiteSpec {
  const layers: Record<string, unknown>[] = [
    {
      mark: { type: 'bar' },
      encoding: {
        x: { field: options.category.field, type: 'nominal', title: options.category.title, sort: options.category.order },
        xOffset: { field: options.series, type: 'nominal' },
        y: { field: options.y.field, type: 'quantitative', title: options.y.title },
        color: { field: options.series, type: 'nominal', title: null, legend: { labelLimit: 320 } },
      },
    },
  ];
  for (const rule of options.rules ?? []) {
    layers.push({
      data: { values: [rule] },
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        {
          mark: { type: 'text', align: 'left', dx: 2, dy: -6, color: 'gray' },
          encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
        },
      ],
    });
  }
  return { title: options.title, width: 560, height: 300, data: { values: options.values }, layer: layers };
}

/**
 * Speedup over one thread vs threads: one line per measured row (from 1 thread, speedup 1,
 * to its thread count), coloured by family; the parallel peak probe (what the machine
 * delivers) as a thick black line, perfect scaling dashed.
 */
export function speedupChart(options: {
  title: string;
  rows: { family: string; row: string; threads: number; speedup: number }[];
  probe?: { threads: number; speedup: number };
}): VegaLiteSpec {
  const maxThreads = Math.max(1, ...options.rows.map((r) => r.threads), options.probe?.threads ?? 1);
  const ticks = Array.from({ length: maxThreads }, (_, i) => i + 1);
  const x = { field: 'threads', type: 'quantitative', title: 'threads', scale: { domain: [1, maxThreads] }, axis: { values: ticks, format: 'd' } };
  const y = { field: 'speedup', type: 'quantitative', title: 'speedup over one thread', scale: { zero: false } };
  const from1 = (to: { threads: number; speedup: number }) => [{ threads: 1, speedup: 1 }, { threads: to.threads, speedup: to.speedup }];
  // a reference line with its label at its right end, above it (dy < 0) or below
  const labelled = (values: { threads: number; speedup: number }[], label: string, dy: number, mark: Record<string, unknown>) => ({
    data: { values: values.map((v) => ({ ...v, label })) },
    layer: [
      { mark: { type: 'line', ...mark }, encoding: { x, y } },
      {
        transform: [{ filter: 'datum.threads > 1' }],
        mark: { type: 'text', align: 'right', dx: -6, dy, fontWeight: 'bold', color: mark.color ?? 'gray' },
        encoding: { x, y, text: { field: 'label' } },
      },
    ],
  });
  const layers: Record<string, unknown>[] = [
    labelled(from1({ threads: maxThreads, speedup: maxThreads }), `perfect ${maxThreads}x`, -8, { color: 'gray', strokeDash: [4, 4] }),
    {
      data: {
        values: options.rows.flatMap((r) => from1(r).map((point) => ({ ...point, family: r.family, row: `${r.family}: ${r.row}` }))),
      },
      mark: { type: 'line', point: true, opacity: 0.55 },
      encoding: {
        x,
        y,
        color: { field: 'family', type: 'nominal', title: 'family' },
        detail: { field: 'row', type: 'nominal' },
      },
    },
  ];
  if (options.probe) {
    layers.push(labelled(from1(options.probe), `peak probe ${options.probe.speedup.toFixed(2)}x`, 16, { color: 'black', strokeWidth: 3 }));
  }
  return { title: options.title, width: 420, height: 320, layer: layers };
}
