// Pure-JS twin of assembly/attention_windowed.ts: the row loops of attention_full.ts
// over the keys of each query's band. Query t sits at key position p = t + S - T and
// sees s = p + j * dilation for -left <= j <= right, plus the global keys outside
// that band; a query at a global position sees every key. Causal (s <= p) and
// keyMask apply to every pair.

import { type KeyLister, type Plain, fullKeys, softmaxTwins } from './attention_full.js';

function windowKeys(p: Plain): KeyLister {
  const { S, T, causal, keyMask } = p;
  const { left, right, dilation, globals } = p.band;
  const isGlobal = new Uint8Array(S);
  for (const g of globals) isGlobal[g] = 1;
  const everyKey = fullKeys(p);
  return (b, t, keys) => {
    const pos = t + S - T;
    if (pos >= 0 && pos < S && isGlobal[pos]) return everyKey(b, t, keys);
    const visible = (s: number) => (!causal || s <= pos) && (keyMask === undefined || keyMask[b * S + s] !== 0);
    let n = 0;
    // band: s = pos + j * dilation, -left <= j <= right, 0 <= s < S
    const jFirst = Math.max(-left, Math.ceil(-pos / dilation));
    const jLast = Math.min(right, Math.floor((S - 1 - pos) / dilation));
    for (let j = jFirst; j <= jLast; j++) {
      const s = pos + j * dilation;
      if (visible(s)) keys[n++] = s;
    }
    for (const g of globals) {
      const offset = g - pos;
      const inBand = offset % dilation === 0 && offset / dilation >= -left && offset / dilation <= right;
      if (!inBand && visible(g)) keys[n++] = g;
    }
    return n;
  };
}

const windowed = softmaxTwins(windowKeys);
export const attentionWindowed = windowed.forward;
export const attentionWindowedBackward = windowed.backward;
