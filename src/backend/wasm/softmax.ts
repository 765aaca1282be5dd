// WASM wrappers of assembly/softmax.ts: run the kernels on the staged operands, copy
// results out. Gradients that the kernels accumulate (+=) get zeroed buffers.

import type {
  CrossEntropyProblem, FullSoftmaxProblem, HierarchicalSoftmaxProblem, NegativeSamplingProblem, SampledSoftmaxProblem,
} from '../../ops/softmax.js';
import type { WasmCall } from './call.js';

export function softmaxCrossEntropy(call: WasmCall, p: CrossEntropyProblem) {
  const count = p.batch * p.classes;
  const rowLoss = call.allocF32(p.batch, 'softmax.crossEntropy losses');
  const dlogits = call.allocF32(count, 'softmax.crossEntropy dlogits');
  call.run('softmaxCrossEntropy', {
    batch: p.batch, classes: p.classes, logits: call.address(p.logits), targets: call.input(p.targets, 'softmax.crossEntropy targets'),
    scale: p.scale, rowLoss, dlogits,
  }, 8 * count);
  return { rowLoss: call.readF32(rowLoss, p.batch), dlogits: call.readF32(dlogits, count) };
}

/** What a softmax loss over weight rows writes: row losses and dInput (=), the rows' and their biases' gradients (+=, zeroed). */
interface LossBuffers {
  rowLoss: number;
  dInput: number;
  dRows: number;
  dBias: number;
}

function lossBuffers(call: WasmCall, what: string, batch: number, hidden: number, rows: number, withBias: boolean): LossBuffers {
  return {
    rowLoss: call.allocF32(batch, `${what} losses`),
    dInput: call.allocF32(batch * hidden, `${what} dInput`),
    dRows: call.allocZeroed(rows * hidden * 4, `${what} weight gradients`),
    dBias: withBias ? call.allocZeroed(rows * 4, `${what} bias gradients`) : 0,
  };
}

function readLoss(call: WasmCall, o: LossBuffers, batch: number, hidden: number, rows: number) {
  return {
    rowLoss: call.readF32(o.rowLoss, batch),
    dInput: call.readF32(o.dInput, batch * hidden),
    dRows: call.readF32(o.dRows, rows * hidden),
    dBias: o.dBias ? call.readF32(o.dBias, rows) : undefined,
  };
}

export function softmaxFull(call: WasmCall, p: FullSoftmaxProblem) {
  const { batch, classes, hidden } = p;
  const o = lossBuffers(call, 'softmax.full', batch, hidden, classes, p.bias !== undefined);
  const scratch = call.allocF32(
    call.exports.softmaxFullScratchFloats({ batch, classes, hidden, threads: call.threads }), 'softmax.full logits and packed operands',
  );
  call.run('softmaxFull', {
    batch, classes, hidden, input: call.address(p.input), weights: call.address(p.weights), bias: call.address(p.bias),
    targets: call.input(p.targets, 'softmax.full targets'), scale: p.scale,
    rowLoss: o.rowLoss, dInput: o.dInput, dWeights: o.dRows, dBias: o.dBias, scratch,
  }, 6 * batch * classes * hidden);
  const out = readLoss(call, o, batch, hidden, classes);
  return { rowLoss: out.rowLoss, dInput: out.dInput, dWeights: out.dRows, dBias: out.dBias };
}

export function softmaxSampled(call: WasmCall, p: SampledSoftmaxProblem) {
  const { batch, hidden, numSampled, numRows } = p;
  const o = lossBuffers(call, 'softmax.sampled', batch, hidden, numRows, p.rowBias !== undefined);
  const scratch = call.allocF32(
    call.exports.softmaxSampledScratchFloats({ batch, hidden, numSampled, threads: call.threads }), 'softmax.sampled scratch',
  );
  call.run('softmaxSampled', {
    batch, hidden, numSampled, input: call.address(p.input), rows: call.address(p.rowWeights), rowBias: call.address(p.rowBias),
    targetSlot: call.input(p.targetSlot, 'softmax.sampled target slots'),
    logQTrue: call.address(p.logQTrue), logQSampled: call.address(p.logQSampled),
    removeHits: p.removeAccidentalHits ? 1 : 0, scale: p.scale,
    rowLoss: o.rowLoss, dInput: o.dInput, dRows: o.dRows, dBiasRows: o.dBias, scratch,
  }, 6 * batch * (numSampled + 1) * hidden);
  const out = readLoss(call, o, batch, hidden, numRows);
  return { rowLoss: out.rowLoss, dInput: out.dInput, dRows: out.dRows, dBiasRows: out.dBias };
}

export function softmaxNegativeSampling(call: WasmCall, p: NegativeSamplingProblem) {
  const { batch, hidden, negative, numRows } = p;
  const o = lossBuffers(call, 'softmax.negativeSampling', batch, hidden, numRows, false);
  const scratch = call.allocF32(call.exports.softmaxNegativeSamplingScratchFloats({ batch, negative }), 'softmax.negativeSampling pairs');
  call.run('softmaxNegativeSampling', {
    batch, hidden, negative, input: call.address(p.input), rows: call.address(p.rowWeights),
    targetSlot: call.input(p.targetSlot, 'softmax.negativeSampling target slots'),
    negativeSlot: call.input(p.negativeSlot, 'softmax.negativeSampling negative slots'),
    scale: p.scale, rowLoss: o.rowLoss, dInput: o.dInput, dRows: o.dRows, scratch,
  }, 6 * batch * (negative + 1) * hidden);
  const out = readLoss(call, o, batch, hidden, numRows);
  return { rowLoss: out.rowLoss, dInput: out.dInput, dRows: out.dRows };
}

export function softmaxHierarchical(call: WasmCall, p: HierarchicalSoftmaxProblem) {
  const { batch, hidden, numRows, pathEntries } = p;
  const o = lossBuffers(call, 'softmax.hierarchical', batch, hidden, numRows, false);
  const scratch = call.allocF32(call.exports.softmaxHierarchicalScratchFloats({ entries: pathEntries.length }), 'softmax.hierarchical path gradients');
  call.run('softmaxHierarchical', {
    batch, hidden, numRows, input: call.address(p.input), rows: call.address(p.rowWeights),
    pathStarts: call.input(p.pathStarts, 'softmax.hierarchical path starts'),
    pathEntries: call.input(pathEntries, 'softmax.hierarchical path entries'),
    scale: p.scale, rowLoss: o.rowLoss, dInput: o.dInput, dRows: o.dRows, scratch,
  }, 6 * pathEntries.length * hidden);
  const out = readLoss(call, o, batch, hidden, numRows);
  return { rowLoss: out.rowLoss, dInput: out.dInput, dRows: out.dRows };
}
