// The models of the trained comparison, built from weft's ops and their backward passes:
// - a 2D-RNN scanning from all four corners (cell 'rnn' with tanh, or 'lstm'), its four
//   state maps concatenated: every pixel's features see the whole image;
// - a stack of 3x3 'same' convolutions with tanh.
// Both end in the same readout: the mean of the feature map over pixels, then a linear
// layer to the class logits, trained with softmax cross-entropy.

import type { Rnn2dCell, Rnn2dOrigin, Tensor, Weft } from '../../src/index.js';

/** A model being trained: its parameters (for the optimiser) and one training step. */
export interface Model {
  name: string;
  /** Every trainable array, in the order of `step`'s gradients. */
  params: Float32Array[];
  paramCount: number;
  /** Forward flops for one image (a multiply-add counted as 2, as weft's flops helpers). */
  flopsPerImage: number;
  /** Mean cross-entropy of a batch and its gradients (same order as params). */
  step(images: Tensor, labels: Int32Array): { loss: number; grads: Float32Array[] };
  /** Class logits [B, classes] of a batch. */
  logits(images: Tensor): Tensor;
}

export interface GridShape {
  height: number;
  width: number;
  channels: number;
  classes: number;
}

/** randn(shape) * scale, seeded. */
function init(weft: Weft, shape: number[], scale: number, seed: number): Tensor {
  const t = weft.randn(shape, seed);
  return weft.tensor(t.data.map((v) => v * scale), shape);
}

/** The shared readout: mean over pixels of a [B, H, W, F] map, then logits = pooled W^T + b. */
class Readout {
  readonly w: Tensor;
  readonly b: Tensor;

  constructor(private readonly weft: Weft, features: number, classes: number, seed: number) {
    this.w = init(weft, [classes, features], 1 / Math.sqrt(features), seed);
    this.b = weft.zeros([classes]);
  }

  get params(): Float32Array[] {
    return [this.w.data, this.b.data];
  }

  flops(features: number): number {
    return 2 * features * this.w.shape[0];
  }

  /** logits [B, classes] from pooled features [B, F]. */
  forward(pooled: Tensor): Tensor {
    return this.weft.matmul(pooled, this.w, { transposeB: true, bias: this.b });
  }

  /** Loss, the readout's gradients and dL/dpooled. */
  backward(pooled: Tensor, logits: Tensor, labels: Int32Array): { loss: number; grads: Float32Array[]; dpooled: Tensor } {
    const { loss, dlogits } = this.weft.softmax.crossEntropy({ logits, targets: labels });
    const dw = this.weft.matmul(dlogits, pooled, { transposeA: true });
    const classes = this.w.shape[0];
    const db = new Float32Array(classes);
    for (let r = 0; r < dlogits.shape[0]; r++) for (let k = 0; k < classes; k++) db[k] += dlogits.data[r * classes + k];
    return { loss, grads: [dw.data, db], dpooled: this.weft.matmul(dlogits, this.w) };
  }
}

/** Mean over pixels of maps[m] [B, H, W, F_m], concatenated along features: [B, sum F_m]. */
function meanPool(maps: Tensor[]): Tensor {
  const [batch, height, width] = maps[0].shape;
  const total = maps.reduce((s, m) => s + m.shape[3], 0);
  const pooled = new Float32Array(batch * total);
  let offset = 0;
  for (const map of maps) {
    const features = map.shape[3];
    for (let b = 0; b < batch; b++)
      for (let p = 0; p < height * width; p++) {
        const row = (b * height * width + p) * features;
        for (let f = 0; f < features; f++) pooled[b * total + offset + f] += map.data[row + f];
      }
    offset += features;
  }
  const scale = 1 / (height * width);
  return { data: pooled.map((v) => v * scale), shape: [batch, total] };
}

/** dL/dmap of meanPool for map m (features at `offset` of the pooled row): the pooled gradient spread evenly. */
function meanPoolBackward(dpooled: Tensor, shape: readonly number[], offset: number): Tensor {
  const [batch, height, width, features] = shape;
  const total = dpooled.shape[1];
  const dmap = new Float32Array(batch * height * width * features);
  const scale = 1 / (height * width);
  for (let b = 0; b < batch; b++)
    for (let p = 0; p < height * width; p++)
      for (let f = 0; f < features; f++) dmap[(b * height * width + p) * features + f] = dpooled.data[b * total + offset + f] * scale;
  return { data: dmap, shape: [...shape] };
}

const ORIGINS: Rnn2dOrigin[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

/** Four scans (one per corner) of a 2D-RNN with `hidden` units, cell 'rnn' (tanh) or 'lstm'. */
export function fourOriginRnn(weft: Weft, grid: GridShape, hidden: number, cell: Rnn2dCell, seed: number): Model {
  const gates = cell === 'lstm' ? 5 * hidden : hidden;
  // one linear map of [x, h_left, h_top]: scale by its whole fan-in
  const scale = 1 / Math.sqrt(grid.channels + 2 * hidden);
  const scans = ORIGINS.map((origin, k) => ({
    origin,
    wIn: init(weft, [gates, grid.channels], scale, seed + 10 * k + 1),
    wLeft: init(weft, [gates, hidden], scale, seed + 10 * k + 2),
    wTop: init(weft, [gates, hidden], scale, seed + 10 * k + 3),
    bias: weft.zeros([gates]),
  }));
  const readout = new Readout(weft, 4 * hidden, grid.classes, seed + 99);
  const params = [...scans.flatMap((s) => [s.wIn.data, s.wLeft.data, s.wTop.data, s.bias.data]), ...readout.params];
  const perScan = { height: grid.height, width: grid.width, inputChannels: grid.channels, hidden, cell };
  const argsOf = (scan: (typeof scans)[number], x: Tensor) => ({ x, wIn: scan.wIn, wLeft: scan.wLeft, wTop: scan.wTop, bias: scan.bias, origin: scan.origin, cell });
  return {
    name: `2D-RNN ${cell === 'lstm' ? 'MD-LSTM' : 'tanh'}, 4 origins, hid ${hidden}`,
    params,
    paramCount: params.reduce((s, p) => s + p.length, 0),
    flopsPerImage: 4 * weft.rnn2d.flops(perScan) + readout.flops(4 * hidden),
    logits(x) {
      return readout.forward(meanPool(scans.map((scan) => weft.rnn2d.forward(argsOf(scan, x)).h)));
    },
    step(x, labels) {
      const outs = scans.map((scan) => weft.rnn2d.forward({ ...argsOf(scan, x), returnGates: cell === 'lstm' }));
      const pooled = meanPool(outs.map((o) => o.h));
      const head = readout.backward(pooled, readout.forward(pooled), labels);
      const grads = scans.flatMap((scan, k) => {
        const dh = meanPoolBackward(head.dpooled, outs[k].h.shape, k * hidden);
        const g = weft.rnn2d.backward({ ...argsOf(scan, x), ...outs[k], dh });
        return [g.dwIn.data, g.dwLeft.data, g.dwTop.data, g.dbias.data];
      });
      return { loss: head.loss, grads: [...grads, ...head.grads] };
    },
  };
}

/** `layers` 3x3 'same' convolutions with tanh, `channels` wide. */
export function convStack(weft: Weft, grid: GridShape, layers: number, channels: number, seed: number): Model {
  const convs = Array.from({ length: layers }, (_, l) => {
    const inC = l === 0 ? grid.channels : channels;
    return { w: init(weft, [channels, 3, 3, inC], 1 / Math.sqrt(9 * inC), seed + l + 1), bias: weft.zeros([channels]) };
  });
  const readout = new Readout(weft, channels, grid.classes, seed + 99);
  const params = [...convs.flatMap((c) => [c.w.data, c.bias.data]), ...readout.params];
  const flops = convs.reduce(
    (s, c) => s + weft.conv2d.flops({ height: grid.height, width: grid.width, inputChannels: c.w.shape[3], outChannels: channels, kernel: 3, padding: 'same' }),
    0,
  );
  const forwardMaps = (x: Tensor): Tensor[] => {
    const maps = [x];
    for (const c of convs) maps.push(weft.conv2d.forward({ x: maps[maps.length - 1], w: c.w, bias: c.bias, padding: 'same', activation: 'tanh' }).y);
    return maps;
  };
  const field = 2 * layers + 1;
  return {
    name: `${layers} x conv 3x3 (tanh), ${channels} channels, receptive field ${field}x${field}`,
    params,
    paramCount: params.reduce((s, p) => s + p.length, 0),
    flopsPerImage: flops + readout.flops(channels),
    logits(x) {
      const maps = forwardMaps(x);
      return readout.forward(meanPool([maps[maps.length - 1]]));
    },
    step(x, labels) {
      const maps = forwardMaps(x);
      const top = maps[maps.length - 1];
      const pooled = meanPool([top]);
      const head = readout.backward(pooled, readout.forward(pooled), labels);
      let dy = meanPoolBackward(head.dpooled, top.shape, 0);
      const grads: Float32Array[] = [];
      for (let l = layers - 1; l >= 0; l--) {
        const c = convs[l];
        const g = weft.conv2d.backward({ x: maps[l], w: c.w, bias: c.bias, padding: 'same', activation: 'tanh', y: maps[l + 1], dy });
        grads.unshift(g.dw.data, g.dbias.data);
        dy = g.dx;
      }
      return { loss: head.loss, grads: [...grads, ...head.grads] };
    },
  };
}
