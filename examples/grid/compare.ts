// The trained comparison: for each task, a 4-origin 2D-RNN (tanh and MD-LSTM) and a conv
// stack of about the same parameter count, each with the same readout, trained with Adam
// on the same minibatches for the same number of epochs. Shared by the example script
// (examples/train-grid.ts), the benchmark family (bench/train.ts) and the demo page.

import type { Weft } from '../../src/index.js';
import { type Dataset, makeDiagonals, parseDigits, splitTrainTest } from './data.js';
import { type Model, convStack, fourOriginRnn } from './models.js';
import { type EpochReport, train } from './train.js';

export type TaskName = 'digits' | 'diagonals';

export interface Task {
  name: TaskName;
  title: string;
  train: Dataset;
  test: Dataset;
  epochs: number;
  lr: number;
}

/** The digits task from the digits CSV text (data/digits.csv.gz, decompressed): 1,397 train / 400 test images. */
export function digitsTask(csv: string, epochs = 15): Task {
  const { train, test } = splitTrainTest(parseDigits(csv), 400, 1);
  return { name: 'digits', title: '8x8 handwritten digits (10 classes)', train, test, epochs, lr: 3e-3 };
}

/** The long-range task: two marked pixels on a falling or a rising diagonal, `size` x `size`. */
export function diagonalsTask(size = 16, trainCount = 4000, epochs = 8): Task {
  return {
    name: 'diagonals',
    title: `${size}x${size}: are the two marked pixels on a falling or a rising diagonal? (2 classes)`,
    train: makeDiagonals(trainCount, size, 1),
    test: makeDiagonals(1000, size, 2),
    epochs,
    lr: 5e-3,
  };
}

/** The three models for a task, ~2.3-3.2K parameters each; the conv sees 5x5 windows. */
export function comparisonModels(weft: Weft, task: Task, seed = 7): Model[] {
  const grid = { height: task.train.height, width: task.train.width, channels: task.train.channels, classes: task.train.classes };
  return [fourOriginRnn(weft, grid, 16, 'rnn', seed), fourOriginRnn(weft, grid, 8, 'lstm', seed), convStack(weft, grid, 2, 16, seed)];
}

export interface ModelResult {
  model: string;
  params: number;
  flopsPerImage: number;
  history: EpochReport[];
}

/** Train every model of `task` in turn (onEpoch sees each epoch of each model). */
export async function runTask(
  weft: Weft, task: Task, options: { epochs?: number; seed?: number; onEpoch?(model: string, report: EpochReport): void | Promise<void> } = {},
): Promise<ModelResult[]> {
  const results: ModelResult[] = [];
  for (const model of comparisonModels(weft, task, options.seed ?? 7)) {
    const history = await train(model, task.train, task.test, {
      epochs: options.epochs ?? task.epochs,
      batchSize: 32,
      lr: task.lr,
      seed: options.seed ?? 7,
      onEpoch: (report) => options.onEpoch?.(model.name, report),
    });
    results.push({ model: model.name, params: model.paramCount, flopsPerImage: model.flopsPerImage, history });
  }
  return results;
}
