// Reading a HAR file with bounded memory. HAR files carry every response body
// of a session (often hundreds of MB) while a diagnosis needs one entry. The file
// is streamed and every JSON string is cut while it is copied: long strings keep
// their first MAX_HAR_STRING_BYTES, and once HAR_KEEP_BUDGET_BYTES have been kept,
// later long strings keep HAR_SMALL_STRING_BYTES. So the text JSON.parse sees is
// small whatever the file's size, and memory stays far under the input cap.

import { readInputFile, streamInputFile } from "./read-input.js";

/** A long string (a response body, base64 content) keeps this much. */
export const MAX_HAR_STRING_BYTES = 2 * 1024 * 1024;
/** After this much has been kept in total, long strings keep only HAR_SMALL_STRING_BYTES. */
export const HAR_KEEP_BUDGET_BYTES = 16 * 1024 * 1024;
export const HAR_SMALL_STRING_BYTES = 16 * 1024;

/** Copies JSON text chunk by chunk, cutting the inside of long string literals. Works on bytes. */
export class JsonStringShrinker {
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private inString = false;
  private escape = false;
  private hexLeft = 0;
  private kept = 0;
  private skipping = false;
  /** How many strings were cut. */
  cut = 0;

  constructor(
    private readonly maxString = MAX_HAR_STRING_BYTES,
    private readonly budget = HAR_KEEP_BUDGET_BYTES,
    private readonly smallString = HAR_SMALL_STRING_BYTES,
  ) {}

  private emit(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.out.push(Buffer.from(chunk.subarray(from, to)));
    this.outBytes += to - from;
  }

  push(chunk: Buffer): void {
    let from = 0;
    const limit = this.outBytes > this.budget ? this.smallString : this.maxString;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (!this.inString) {
        if (c === 0x22) {
          this.inString = true;
          this.kept = 0;
          this.skipping = false;
        }
        continue;
      }
      if (this.escape) {
        this.escape = false;
        if (c === 0x75 /* u */ && !this.skipping) this.hexLeft = 4;
        continue;
      }
      if (this.hexLeft > 0) {
        this.hexLeft--;
        continue;
      }
      if (c === 0x22) {
        this.inString = false;
        if (this.skipping) {
          this.skipping = false;
          from = i; // the closing quote is copied again
        }
        continue;
      }
      if (this.skipping) {
        if (c === 0x5c) this.escape = true;
        continue;
      }
      // Cut only between characters: not inside an escape, not before a UTF-8 continuation byte.
      if (this.kept >= limit && (c & 0xc0) !== 0x80) {
        this.emit(chunk, from, i);
        this.skipping = true;
        this.cut++;
        if (c === 0x5c) this.escape = true;
        continue;
      }
      this.kept++;
      if (c === 0x5c) this.escape = true;
    }
    if (!this.skipping) this.emit(chunk, from, chunk.length);
  }

  text(): string {
    return Buffer.concat(this.out, this.outBytes).toString("utf8");
  }
}

/** The HAR file's JSON text with long strings cut; `-` reads stdin (whole, under the input cap). */
export function readHarText(path: string): string {
  const shrinker = new JsonStringShrinker();
  if (path === "-") shrinker.push(readInputFile("-", "HAR file"));
  else streamInputFile(path, "HAR file", (chunk) => shrinker.push(chunk));
  return shrinker.text();
}
