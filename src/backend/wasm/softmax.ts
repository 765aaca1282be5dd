// WASM wrappers of assembly/softmax.ts: copy operands in, call, copy results out.
// Gradients that the kernels accumulate (+=) get zeroed buffers.

import type {
  CrossEntropyProblem, FullSoftmaxProblem, NegativeSamplingProblem, SampledSoftmaxProblem,
} from '../../ops/softmax.js';
import type { WasmContext } from './context.js';

export function softmaxCrossEntropyWasm(ctx: WasmContext, p: CrossEntropyProblem) {
  return ctx.call((frame) => {
    const count = p.batch * p.classes;
    const logits = frame.input(p.logits, 'softmax.crossEntropy logits');
    const targets = frame.input(p.targets, 'softmax.crossEntropy targets');
    const rowLoss = frame.allocF32(p.batch, 'softmax.crossEntropy losses');
    const dlogits = frame.allocF32(count, 'softmax.crossEntropy dlogits');
    ctx.kernels.softmaxCrossEntropy(p.batch, p.classes, logits, targets, p.scale, rowLoss, dlogits);
    return { rowLoss: frame.readF32(rowLoss, p.batch), dlogits: frame.readF32(dlogits, count) };
  });
}

export function softmaxFullWasm(ctx: WasmContext, p: FullSoftmaxProblem) {
  const { kernels } = ctx;
  return ctx.call((frame) => {
    const { batch, classes, hidden } = p;
    const input = frame.input(p.input, 'softmax.full input');
    const weights = frame.input(p.weights, 'softmax.full weights');
    const bias = p.bias ? frame.input(p.bias, 'softmax.full bias') : 0;
    const targets = frame.input(p.targets, 'softmax.full targets');
    const rowLoss = frame.allocF32(batch, 'softmax.full losses');
    const dInput = frame.allocF32(batch * hidden, 'softmax.full dInput');
    const dWeights = frame.allocZeroed(classes * hidden * 4, 'softmax.full dWeights');
    const dBias = p.bias ? frame.allocZeroed(classes * 4, 'softmax.full dBias') : 0;
    const scratch = frame.allocF32(kernels.softmaxFullScratchFloats(batch, classes, hidden), 'softmax.full logits and packed operands');
    kernels.softmaxFull(batch, classes, hidden, input, weights, bias, targets, p.scale, rowLoss, dInput, dWeights, dBias, scratch);
    return {
      rowLoss: frame.readF32(rowLoss, batch),
      dInput: frame.readF32(dInput, batch * hidden),
      dWeights: frame.readF32(dWeights, classes * hidden),
      dBias: p.bias ? frame.readF32(dBias, classes) : undefined,
    };
  });
}

export function softmaxSampledWasm(ctx: WasmContext, p: SampledSoftmaxProblem) {
  const { kernels } = ctx;
  return ctx.call((frame) => {
    const { batch, hidden, numSampled, numRows } = p;
    const input = frame.input(p.input, 'softmax.sampled input');
    const rows = frame.input(p.rowWeights, 'softmax.sampled rows');
    const rowBias = p.rowBias ? frame.input(p.rowBias, 'softmax.sampled bias rows') : 0;
    const targetSlot = frame.input(p.targetSlot, 'softmax.sampled target slots');
    const logQTrue = frame.input(p.logQTrue, 'softmax.sampled log Q');
    const logQSampled = frame.input(p.logQSampled, 'softmax.sampled log Q');
    const rowLoss = frame.allocF32(batch, 'softmax.sampled losses');
    const dInput = frame.allocF32(batch * hidden, 'softmax.sampled dInput');
    const dRows = frame.allocZeroed(numRows * hidden * 4, 'softmax.sampled dRows');
    const dBiasRows = p.rowBias ? frame.allocZeroed(numRows * 4, 'softmax.sampled dBiasRows') : 0;
    const scratch = frame.allocF32(kernels.softmaxSampledScratchFloats(batch, hidden, numSampled), 'softmax.sampled scratch');
    kernels.softmaxSampled(
      batch, hidden, numSampled, input, rows, rowBias, targetSlot, logQTrue, logQSampled,
      p.removeAccidentalHits ? 1 : 0, p.scale, rowLoss, dInput, dRows, dBiasRows, scratch,
    );
    return {
      rowLoss: frame.readF32(rowLoss, batch),
      dInput: frame.readF32(dInput, batch * hidden),
      dRows: frame.readF32(dRows, numRows * hidden),
      dBiasRows: p.rowBias ? frame.readF32(dBiasRows, numRows) : undefined,
    };
  });
}

export function negativeSamplingWasm(ctx: WasmContext, p: NegativeSamplingProblem) {
  return ctx.call((frame) => {
    const { batch, hidden, negative, numRows } = p;
    const input = frame.input(p.input, 'softmax.negativeSampling input');
    const rows = frame.input(p.rowWeights, 'softmax.negativeSampling rows');
    const targetSlot = frame.input(p.targetSlot, 'softmax.negativeSampling target slots');
    const negativeSlot = frame.input(p.negativeSlot, 'softmax.negativeSampling negative slots');
    const rowLoss = frame.allocF32(batch, 'softmax.negativeSampling losses');
    const dInput = frame.allocF32(batch * hidden, 'softmax.negativeSampling dInput');
    const dRows = frame.allocZeroed(numRows * hidden * 4, 'softmax.negativeSampling dRows');
    ctx.kernels.negativeSampling(batch, hidden, negative, input, rows, targetSlot, negativeSlot, p.scale, rowLoss, dInput, dRows);
    return {
      rowLoss: frame.readF32(rowLoss, batch),
      dInput: frame.readF32(dInput, batch * hidden),
      dRows: frame.readF32(dRows, numRows * hidden),
    };
  });
}
