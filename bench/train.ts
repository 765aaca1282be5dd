// The trained comparison (examples/grid/): a 4-origin 2D-RNN (tanh and MD-LSTM) and a conv
// stack of about the same parameter count, same readout, same Adam, same minibatches and
// epochs, on the 8x8 digits and on a task only whole-image context decides. Reports test
// accuracy, parameters, FLOPs per image and training time per epoch (the fastest build, one
// thread), and plots test accuracy against training time.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { BenchContext, FamilyTable, Table } from './context.js';
import type { Cell } from './harness.js';
import { lineChart } from './plot.js';
import { type Task, diagonalsTask, digitsTask, runTask } from '../examples/grid/compare.js';

export async function benchTrain(ctx: BenchContext): Promise<FamilyTable> {
  const best = ctx.impls[0];
  const csv = gunzipSync(readFileSync(new URL('../data/digits.csv.gz', import.meta.url))).toString();
  const tasks: Task[] = ctx.quick ? [digitsTask(csv, 8), diagonalsTask(16, 2000, 5)] : [digitsTask(csv), diagonalsTask()];
  const tables: Table[] = [];
  const points: Record<string, unknown>[] = [];
  const notes: string[] = [];
  for (const task of tasks) {
    const results = await runTask(best.weft, task, {
      onEpoch(model, r) {
        ctx.progress.show(`training ${task.name}: ${model}, epoch ${r.epoch}`);
        points.push({ seconds: r.seconds, accuracy: 100 * r.testAccuracy, series: `${task.name}: ${model.split(',')[0]}` });
      },
    });
    const rows: Cell[][] = results.map((r) => {
      const last = r.history[r.history.length - 1];
      return [r.model, r.params, r.flopsPerImage / 1e3, last.seconds / last.epoch, last.trainLoss, 100 * last.testAccuracy];
    });
    tables.push({
      title: `trained comparison, ${task.title}: ${task.train.count} train / ${task.test.count} test, ${task.epochs} epochs, Adam lr ${task.lr}, batch 32 (weft ${best.label}, one thread)`,
      header: ['model', 'params', 'kFLOP/image', 's/epoch', 'train loss', 'test accuracy %'],
      rows,
    });
  }
  notes.push(
    'Same seed, same minibatches, same readout (mean over pixels, then linear) and optimiser for every model; FLOPs are the forward pass of one image.',
    'The conv stack (two 3x3 layers) sees a 5x5 window: on the diagonals task it can only relate markers less than 5 pixels apart.',
  );
  const [first, ...more] = tables;
  return {
    slug: 'train',
    ...first,
    extraTables: more,
    notes,
    plot: lineChart({
      title: 'test accuracy vs training time (one thread)',
      x: { field: 'seconds', title: 'training time, s' },
      y: { field: 'accuracy', title: 'test accuracy, %' },
      series: 'series',
      values: points,
    }),
  };
}
