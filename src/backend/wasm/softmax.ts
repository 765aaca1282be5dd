// WASM wrappers of assembly/softmax.ts: run the kernels on the staged operands, copy
// results out. Gradients that the kernels accumulate (+=) get zeroed buffers.

import type {
  CrossEntropyProblem, FullSoftmaxProblem, NegativeSamplingProblem, SampledSoftmaxProblem,
} from '../../ops/softmax.js';
import type { WasmCall } from './call.js';

export function softmaxCrossEntropy(call: WasmCall, p: CrossEntropyProblem) {
  const count = p.batch * p.classes;
  const rowLoss = call.allocF32(p.batch, 'softmax.crossEntropy losses');
  const dlogits = call.allocF32(count, 'softmax.crossEntropy dlogits');
  call.exports.softmaxCrossEntropy({
    batch: p.batch, classes: p.classes, logits: call.address(p.logits), targets: call.input(p.targets, 'softmax.crossEntropy targets'),
    scale: p.scale, rowLoss, dlogits,
  });
  return { rowLoss: call.readF32(rowLoss, p.batch), dlogits: call.readF32(dlogits, count) };
}

export function softmaxFull(call: WasmCall, p: FullSoftmaxProblem) {
  const { batch, classes, hidden } = p;
  const rowLoss = call.allocF32(batch, 'softmax.full losses');
  const dInput = call.allocF32(batch * hidden, 'softmax.full dInput');
  const dWeights = call.allocZeroed(classes * hidden * 4, 'softmax.full dWeights');
  const dBias = p.bias ? call.allocZeroed(classes * 4, 'softmax.full dBias') : 0;
  const scratch = call.allocF32(call.exports.softmaxFullScratchFloats({ batch, classes, hidden }), 'softmax.full logits and packed operands');
  call.exports.softmaxFull({
    batch, classes, hidden, input: call.address(p.input), weights: call.address(p.weights), bias: call.address(p.bias),
    targets: call.input(p.targets, 'softmax.full targets'), scale: p.scale, rowLoss, dInput, dWeights, dBias, scratch,
  });
  return {
    rowLoss: call.readF32(rowLoss, batch),
    dInput: call.readF32(dInput, batch * hidden),
    dWeights: call.readF32(dWeights, classes * hidden),
    dBias: p.bias ? call.readF32(dBias, classes) : undefined,
  };
}

export function softmaxSampled(call: WasmCall, p: SampledSoftmaxProblem) {
  const { batch, hidden, numSampled, numRows } = p;
  const rowLoss = call.allocF32(batch, 'softmax.sampled losses');
  const dInput = call.allocF32(batch * hidden, 'softmax.sampled dInput');
  const dRows = call.allocZeroed(numRows * hidden * 4, 'softmax.sampled dRows');
  const dBiasRows = p.rowBias ? call.allocZeroed(numRows * 4, 'softmax.sampled dBiasRows') : 0;
  const scratch = call.allocF32(call.exports.softmaxSampledScratchFloats({ batch, hidden, numSampled }), 'softmax.sampled scratch');
  call.exports.softmaxSampled({
    batch, hidden, numSampled, input: call.address(p.input), rows: call.address(p.rowWeights), rowBias: call.address(p.rowBias),
    targetSlot: call.input(p.targetSlot, 'softmax.sampled target slots'),
    logQTrue: call.address(p.logQTrue), logQSampled: call.address(p.logQSampled),
    removeHits: p.removeAccidentalHits ? 1 : 0, scale: p.scale, rowLoss, dInput, dRows, dBiasRows, scratch,
  });
  return {
    rowLoss: call.readF32(rowLoss, batch),
    dInput: call.readF32(dInput, batch * hidden),
    dRows: call.readF32(dRows, numRows * hidden),
    dBiasRows: p.rowBias ? call.readF32(dBiasRows, numRows) : undefined,
  };
}

export function softmaxNegativeSampling(call: WasmCall, p: NegativeSamplingProblem) {
  const { batch, hidden, negative, numRows } = p;
  const rowLoss = call.allocF32(batch, 'softmax.negativeSampling losses');
  const dInput = call.allocF32(batch * hidden, 'softmax.negativeSampling dInput');
  const dRows = call.allocZeroed(numRows * hidden * 4, 'softmax.negativeSampling dRows');
  call.exports.softmaxNegativeSampling({
    batch, hidden, negative, input: call.address(p.input), rows: call.address(p.rowWeights),
    targetSlot: call.input(p.targetSlot, 'softmax.negativeSampling target slots'),
    negativeSlot: call.input(p.negativeSlot, 'softmax.negativeSampling negative slots'),
    scale: p.scale, rowLoss, dInput, dRows,
  });
  return {
    rowLoss: call.readF32(rowLoss, batch),
    dInput: call.readF32(dInput, batch * hidden),
    dRows: call.readF32(dRows, numRows * hidden),
  };
}
