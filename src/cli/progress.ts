// Status lines on a terminal: the training progress of `weft skipgram` (rewritten in
// place on a TTY at most every 100 ms, one line per epoch otherwise) and the steps
// of the benchmark report.

import type { TrainProgress } from '../ops/skipgram/trainer.js';

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

export interface StatusLineOptions {
  /** On a TTY, redraw at most this often unless a line is kept. Default 0. */
  throttleMs?: number;
  /** Off a TTY, print every text (logs of long runs), not only kept ones. Default false. */
  logEvery?: boolean;
  /** Prefix each text with the seconds since the line was made: "[ 12 s] ". Default false. */
  elapsed?: boolean;
}

/**
 * One status line: rewritten in place on a TTY, one line per kept text otherwise (logs,
 * CI). Training progress (`weft skipgram`) and the benchmark report both show theirs here.
 */
export class StatusLine {
  private readonly started = performance.now();
  private lastDraw = 0;
  private open = false;

  constructor(private readonly out: OutputStream, private readonly options: StatusLineOptions = {}) {}

  /** Show `text`; `keep` ends its line (the next text starts a new one) and always prints it. */
  show(text: string, keep = false): void {
    const { throttleMs = 0, logEvery = false, elapsed = false } = this.options;
    const line = elapsed ? `[${((performance.now() - this.started) / 1000).toFixed(0).padStart(3)} s] ${text}` : text;
    if (this.out.isTTY) {
      const now = performance.now();
      if (!keep && this.open && now - this.lastDraw < throttleMs) return;
      this.lastDraw = now;
      this.out.write(`\r\x1b[2K${line}${keep ? '\n' : ''}`);
      this.open = !keep;
    } else if (keep || logEvery) {
      this.out.write(`${line}\n`);
    }
  }

  /** Erase a line left open on a TTY (before printing something else). */
  clear(): void {
    if (this.open) this.out.write('\r\x1b[2K');
    this.open = false;
  }

  /** End a line left open on a TTY. */
  finish(): void {
    if (this.open) this.out.write('\n');
    this.open = false;
  }
}
