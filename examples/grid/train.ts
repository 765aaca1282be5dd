// Training and evaluation of the comparison's models: Adam on shuffled minibatches (a seeded
// order per epoch), test accuracy after every epoch, training time measured apart from it.

import type { Tensor } from '../../src/index.js';
import { Adam } from './adam.js';
import { type Dataset, shuffledOrder, subset } from './data.js';
import type { Model } from './models.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Adam's learning rate. */
  lr: number;
  /** Seeds the minibatch order (the model's initialisation has its own seed). */
  seed: number;
  /** Called after each epoch (awaited: a page can repaint there). */
  onEpoch?(report: EpochReport): void | Promise<void>;
}

export interface EpochReport {
  epoch: number;
  /** Mean minibatch loss over the epoch. */
  trainLoss: number;
  testAccuracy: number;
  /** Training time so far, seconds (evaluation excluded). */
  seconds: number;
}

const now = () => performance.now() / 1000;

function batchTensor(data: Dataset): Tensor {
  return { data: data.images, shape: [data.count, data.height, data.width, data.channels] };
}

/** Fraction of `data` whose largest logit is its label. */
export function accuracy(model: Model, data: Dataset, batchSize = 256): number {
  let correct = 0;
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  for (let from = 0; from < data.count; from += batchSize) {
    const batch = subset(data, order, from, Math.min(data.count, from + batchSize));
    const logits = model.logits(batchTensor(batch));
    const classes = logits.shape[1];
    for (let r = 0; r < batch.count; r++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (logits.data[r * classes + k] > logits.data[r * classes + best]) best = k;
      if (best === batch.labels[r]) correct++;
    }
  }
  return correct / data.count;
}

/** Train `model` on `train` for options.epochs, reporting test accuracy after each epoch. */
export async function train(model: Model, trainSet: Dataset, testSet: Dataset, options: TrainOptions): Promise<EpochReport[]> {
  const adam = new Adam(model.params, options.lr);
  const history: EpochReport[] = [];
  let seconds = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const order = shuffledOrder(trainSet.count, options.seed * 1000 + epoch);
    const start = now();
    let lossSum = 0, batches = 0;
    for (let from = 0; from + options.batchSize <= trainSet.count; from += options.batchSize) {
      const batch = subset(trainSet, order, from, from + options.batchSize);
      const { loss, grads } = model.step(batchTensor(batch), batch.labels);
      adam.update(grads);
      lossSum += loss;
      batches++;
    }
    seconds += now() - start;
    const report = { epoch, trainLoss: lossSum / batches, testAccuracy: accuracy(model, testSet), seconds };
    history.push(report);
    await options.onEpoch?.(report);
  }
  return history;
}
