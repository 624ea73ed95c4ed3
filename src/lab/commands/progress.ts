// Progress on stderr while the lab works: on a terminal, one status line redrawn in place with event
// lines above it; elsewhere, the event lines only.
export class Progress {
  readonly #tty = Boolean(process.stderr.isTTY);
  readonly #started = performance.now();
  #status = '';

  /** A line that stays, stamped with the seconds since the lab started. */
  event(line: string): void {
    this.#clear();
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1).padStart(5);
    process.stderr.write(`${seconds}s  ${line}\n`);
    this.#draw();
  }

  status(line: string): void {
    this.#status = line;
    this.#clear();
    this.#draw();
  }

  done(): void {
    this.#clear();
    this.#status = '';
  }

  #clear(): void {
    if (this.#tty && this.#status) process.stderr.write('\r\x1b[2K');
  }

  #draw(): void {
    if (this.#tty && this.#status) process.stderr.write(this.#status.slice(0, (process.stderr.columns || 80) - 1));
  }
}
