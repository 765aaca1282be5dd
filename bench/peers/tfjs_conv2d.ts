// conv2d's gradient as a tfjs user can get it on tfjs-wasm, for `y = tanh(conv2d(x, w) + b)`
// with stride 1 and 'same' padding (layout NHWC, filter [kh, kw, C, O]).
//
// tf.grads of tf.conv2d throws there: tfjs-backend-wasm (4.22) registers Conv2DBackpropInput
// but not Conv2DBackpropFilter. So the gradient is composed from ops that run on it:
//   dpre  = dy * (1 - y^2)
//   dbias = sum of dpre over b, oy, ox
//   dw    = a convolution (XNNPACK) with batch and channels swapped:
//           dw[ky, kx, c, o] = sum_{b,oy,ox} xpad[b, oy+ky, ox+kx, c] dpre[b, oy, ox, o], i.e.
//           conv2d(xpad^T [C, H+kh-1, W+kw-1, B], dpre^T [OH, OW, B, O], 'valid') -> [C, kh, kw, O]
//   dx    = two ways: tf.conv2dTranspose (tfjs-wasm's own Conv2DBackpropInput kernel), or
//           a convolution (XNNPACK) of dpre with the flipped, channel-swapped filter.
// The XNNPACK route for dx is several times faster here, so it is the peer the table
// compares with; the conv2dTranspose route is timed beside it.

import type { Tf } from './tfjs.js';

type Tensor = ReturnType<Tf['tensor']>;
type Tensor4D = ReturnType<Tf['tensor4d']>;

/** The forward's tensors a backward reads, in tfjs layouts. */
export interface TfConv2dOperands {
  x: Tensor4D; // [B, H, W, C]
  filter: Tensor4D; // [kh, kw, C, O]
  y: Tensor4D; // [B, H, W, O], tanh'd
  dy: Tensor4D; // [B, H, W, O]
}

export type TfConv2dDx = 'conv2d' | 'conv2dTranspose';

/** [dx [B, H, W, C], dw [kh, kw, C, O], dbias [O]] of the tanh conv at 'same' padding. */
export function tfConv2dBackward(tf: Tf, t: TfConv2dOperands, dxBy: TfConv2dDx): Tensor[] {
  return tf.tidy(() => {
    const [kh, kw] = t.filter.shape;
    const top = Math.floor((kh - 1) / 2), left = Math.floor((kw - 1) / 2);
    const dpre = tf.mul(t.dy, tf.sub(1, tf.square(t.y))) as Tensor4D;
    const dbias = tf.sum(dpre, [0, 1, 2]);
    const xPadded = tf.pad(t.x, [[0, 0], [top, kh - 1 - top], [left, kw - 1 - left], [0, 0]]);
    const dwCKKO = tf.conv2d(tf.transpose(xPadded, [3, 1, 2, 0]) as Tensor4D, tf.transpose(dpre, [1, 2, 0, 3]) as Tensor4D, 1, 'valid');
    const dw = tf.transpose(dwCKKO, [1, 2, 0, 3]);
    const dx = dxBy === 'conv2dTranspose'
      ? tf.conv2dTranspose(dpre, t.filter, t.x.shape, 1, 'same')
      // 'same' with an odd kernel pads alike on both sides, so the flipped filter needs no other padding
      : tf.conv2d(dpre, tf.transpose(tf.reverse(t.filter, [0, 1]), [0, 1, 3, 2]) as Tensor4D, 1, 'same');
    return [dx, dw, dbias];
  });
}
