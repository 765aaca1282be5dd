// The training progress line of `weft skipgram`: rewritten in place on a TTY
// (at most every 100 ms), one line per epoch otherwise (logs, CI).

import type { TrainProgress } from '../skipgram/trainer.js';

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

function formatRate(wordsPerSec: number): string {
  if (wordsPerSec >= 1e6) return `${(wordsPerSec / 1e6).toFixed(2)}M`;
  if (wordsPerSec >= 1e3) return `${(wordsPerSec / 1e3).toFixed(1)}K`;
  return wordsPerSec.toFixed(0);
}

/** h:mm:ss or m:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** "epoch 2/5  43.1%  412.3K words/s  alpha 0.014320  loss 2.7312  ETA 0:12" */
export function formatProgress(p: TrainProgress): string {
  const elapsed = p.elapsedMs / 1000;
  const eta = p.progress > 0 ? (elapsed * (1 - p.progress)) / p.progress : NaN;
  return [
    `epoch ${p.epoch}/${p.epochs}`,
    `${(100 * p.progress).toFixed(1).padStart(5)}%`,
    `${formatRate(p.wordsPerSec).padStart(6)} words/s`,
    `alpha ${p.alpha.toFixed(6)}`,
    `loss ${p.loss.toFixed(4)}`,
    p.progress >= 1 ? `took ${formatDuration(elapsed)}` : `ETA ${formatDuration(eta)}`,
  ].join('  ');
}

export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly out: OutputStream) {}

  update(p: TrainProgress): void {
    if (this.out.isTTY) {
      const now = performance.now();
      if (!p.endOfEpoch && this.drawn && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.out.write(`\r\x1b[2K${formatProgress(p)}${p.endOfEpoch ? '\n' : ''}`);
      this.drawn = !p.endOfEpoch;
    } else if (p.endOfEpoch) {
      this.out.write(`${formatProgress(p)}\n`);
    }
  }

  /** End a line left open on a TTY. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
