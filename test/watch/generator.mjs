// Writes nginx-combined 403 lines, each with a unique path /r/<n>, at a steady
// rate, and rotates the log twice while writing: by rename after a third of the
// time (logrotate's default; the writer then reopens) and by copytruncate after
// two thirds (copy, then truncate in place while the writer keeps its O_APPEND fd).
// With a <go file>, the copytruncate also waits (writing on) until that file
// exists: the test creates it once watch has read into the file that followed
// the first rotation, as real rotations are hours apart, and a file truncated
// before any of it was read cannot be noticed by anyone.
// Lines stay under MAX_LINES (each from its own client address, which the test
// counts): at that many it stops writing until the go file exists, and its
// rate is measured over the time it was writing.
// Usage: node generator.mjs <log> <lines per second> <seconds> [go file]
// Prints {"lines": N, "seconds": S, "rate": R} when done.
import { closeSync, copyFileSync, existsSync, ftruncateSync, openSync, renameSync, writeSync } from "node:fs";

const [log, perSecond = "8000", seconds = "3", goFile] = process.argv.slice(2);
const rate = Number(perSecond);
const planned = Math.round(rate * Number(seconds));
const stepMs = 10;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
let fd = openSync(log, "a");
let n = 0;
const start = Date.now();
const rotations = [
  { at: Math.floor(planned / 3), run: rename, ready: () => true },
  { at: Math.floor((2 * planned) / 3), run: copyTruncate, ready: () => !goFile || existsSync(goFile) },
];
/** Lines to write: the plan, and a tenth more after a late rotation. */
let total = planned;
const MAX_LINES = 45_000;
let pausedMs = 0;

function rename() {
  renameSync(log, `${log}.1`);
  closeSync(fd);
  fd = openSync(log, "a");
}

function copyTruncate() {
  copyFileSync(log, `${log}.2`);
  ftruncateSync(fd, 0);
}

function stamp() {
  const t = new Date();
  const day = String(t.getUTCDate()).padStart(2, "0");
  return `${day}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${t.toISOString().slice(11, 19)} +0000`;
}

while (n < total) {
  const next = rotations[0];
  if (next && !next.ready() && n >= MAX_LINES) {
    const t = Date.now();
    while (!next.ready()) {
      // Never outlive a test that gave up on it.
      if (Date.now() - t > 180_000) process.exit(3);
      await new Promise((r) => setTimeout(r, stepMs));
    }
    pausedMs += Date.now() - t;
  }
  const due = Math.min(total, Math.ceil(((Date.now() - start - pausedMs + stepMs) / 1000) * rate));
  if (next && next.at < n && next.ready()) next.at = n;
  if (next && total - n < rate / 10) total = n + Math.ceil(rate / 10);
  const free = next?.ready() && next.at >= n && next.at < due ? next.at : due;
  // Never past MAX_LINES while a rotation waits for its go.
  const upto = next && !next.ready() ? Math.min(free, MAX_LINES) : free;
  const ts = stamp();
  let batch = "";
  for (; n < upto; n++) {
    const client = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    batch += `${client} - - [${ts}] "POST /r/${n} HTTP/1.1" 403 153 "-" "gen/1"\n`;
  }
  if (batch) writeSync(fd, batch);
  if (next && n === next.at && next.ready()) {
    rotations.shift();
    next.run();
    continue;
  }
  await new Promise((r) => setTimeout(r, stepMs));
}
closeSync(fd);
const secs = (Date.now() - start - pausedMs) / 1000;
process.stdout.write(`${JSON.stringify({ lines: n, seconds: secs, rate: n / secs })}\n`);
