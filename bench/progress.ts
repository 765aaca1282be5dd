// The progress line of a benchmark run: rewritten in place on a TTY, one line
// per step otherwise (CI logs).

export class Progress {
  private readonly started = performance.now();
  private readonly tty: boolean;
  private lastLength = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = !!stream.isTTY;
  }

  /** Show what is being measured now. */
  step(message: string): void {
    const elapsed = ((performance.now() - this.started) / 1000).toFixed(0);
    const line = `[${elapsed.padStart(3)} s] ${message}`;
    if (this.tty) {
      this.stream.write('\r' + line.padEnd(this.lastLength));
      this.lastLength = line.length;
    } else {
      this.stream.write(line + '\n');
    }
  }

  /** Clear the line before printing a result. */
  clear(): void {
    if (this.tty && this.lastLength) {
      this.stream.write('\r' + ' '.repeat(this.lastLength) + '\r');
      this.lastLength = 0;
    }
  }
}
