// Example: train a 4-origin 2D-RNN (tanh and MD-LSTM) and a conv stack of about the same
// size on two image tasks with weft's forward and backward passes and a small Adam, and
// print test accuracy, parameters, FLOPs per image and training time per epoch.
//
//   npm run example:train -- [--task digits|diagonals|both] [--epochs N] [--seed N]
//                            [--backend wasm|js] [--threads N] [--csv accuracy.csv]
//
// The same seed gives the same results (on one thread or many: weft's ops return the same
// bits for any thread count).

import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { createWeft } from '../src/index.js';
import { type Task, diagonalsTask, digitsTask, runTask } from './grid/compare.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string', default: 'both' },
    epochs: { type: 'string' },
    seed: { type: 'string', default: '7' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '1' },
    csv: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run example:train -- [--task digits|diagonals|both] [--epochs N] [--seed N] [--backend wasm|js] [--threads N] [--csv file]');
  process.exit(0);
}

const weft = await createWeft({ backend: values.backend === 'js' ? 'js' : 'wasm', threads: Number(values.threads) });
const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
const tasks: Task[] = [];
if (values.task === 'digits' || values.task === 'both') {
  const csv = gunzipSync(readFileSync(new URL('../data/digits.csv.gz', import.meta.url))).toString();
  tasks.push(digitsTask(csv));
}
if (values.task === 'diagonals' || values.task === 'both') tasks.push(diagonalsTask());

const csvRows = ['task,model,epoch,seconds,train_loss,test_accuracy'];
for (const task of tasks) {
  console.log(`\n${task.title}: ${task.train.count} train / ${task.test.count} test images, Adam lr ${task.lr}, batch 32, seed ${values.seed}`);
  const results = await runTask(weft, task, {
    epochs,
    seed: Number(values.seed),
    onEpoch(model, r) {
      console.log(`  ${model}: epoch ${r.epoch}, loss ${r.trainLoss.toFixed(4)}, test accuracy ${(100 * r.testAccuracy).toFixed(1)}%, ${r.seconds.toFixed(1)} s`);
      csvRows.push([task.name, JSON.stringify(model), r.epoch, r.seconds.toFixed(3), r.trainLoss.toFixed(5), r.testAccuracy.toFixed(4)].join(','));
    },
  });
  console.log(`\n  ${'model'.padEnd(62)} params  kFLOP/image  s/epoch  test accuracy`);
  for (const r of results) {
    const last = r.history[r.history.length - 1];
    console.log(
      `  ${r.model.padEnd(62)} ${String(r.params).padStart(6)}  ${(r.flopsPerImage / 1e3).toFixed(0).padStart(11)}  ${(last.seconds / last.epoch).toFixed(2).padStart(7)}  ${(100 * last.testAccuracy).toFixed(1).padStart(12)}%`,
    );
  }
}
if (values.csv) writeFileSync(values.csv, csvRows.join('\n') + '\n');
weft.dispose();
