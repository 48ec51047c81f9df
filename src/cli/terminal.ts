// Terminal capabilities: colour only on a TTY and without NO_COLOR / --no-color;
// a single live progress line on stderr that never touches stdout.

export { makeStyle, type Style } from "../report/style.js";

export function colourWanted(stream: NodeJS.WriteStream, noColorFlag: boolean, env = process.env): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

/** A one-line status on stderr, rewritten in place on a TTY, silent otherwise. */
export class ProgressLine {
  private shown = false;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}
  get active(): boolean {
    return Boolean(this.stream.isTTY);
  }
  update(text: string): void {
    if (!this.active) return;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.stream.write(`\r\x1b[2K${line}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) this.stream.write("\r\x1b[2K");
    this.shown = false;
  }
}
