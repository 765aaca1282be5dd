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
