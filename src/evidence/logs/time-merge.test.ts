// Several logs read in step by time (time-merge.ts): the merge itself on random
// sources, then what it is for — an access log and an error log with more
// refused requests than the join window, given as two files, count each
// request once, as the same lines in one file do.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyzeLogs } from "./analyze.js";
import { JOIN_WINDOW } from "./join.js";
import { type MergeSource, mergeByTime, mergeKey, RecordQueue } from "./time-merge.js";
import type { LogRecord } from "./types.js";

/** A stand-in record: only the fields the merge reads, plus where it came from. */
function rec(file: number, line: number, ms: number | null): LogRecord {
  return { file: String(file), line, time: ms === null ? null : new Date(ms) } as LogRecord;
}

/** A source handing out its records in batches of the given sizes (then the rest), counting its reads. */
function source(records: LogRecord[], batches: number[]): MergeSource & { reads: number } {
  const queue = new RecordQueue();
  let at = 0;
  let b = 0;
  const s = {
    queue,
    reads: 0,
    async step() {
      s.reads++;
      if (at >= records.length) return false;
      const n = Math.max(1, batches[b++ % Math.max(1, batches.length)] ?? 1);
      for (const r of records.slice(at, at + n)) queue.push(r);
      at += n;
      return true;
    },
  };
  return s;
}

describe("mergeByTime", () => {
  it("keeps each file's order, puts the earliest next record first, and sends a record without a time at once", async () => {
    const a = [rec(0, 1, 1000), rec(0, 2, 3000), rec(0, 3, 2500), rec(0, 4, 5000)];
    const b = [rec(1, 1, 2000), rec(1, 2, null), rec(1, 3, 4000)];
    const out: string[] = [];
    await mergeByTime([source(a, [1]), source(b, [1])], (r) => out.push(`${r.file}:${r.line}`));
    // 0:3 (2500) comes after 0:2 (3000): a file's own order wins over time.
    expect(out).toEqual(["0:1", "1:1", "1:2", "0:2", "0:3", "1:3", "0:4"]);
  });

  it("on random sources: every record once, each file in order, never one while another file's next is earlier", async () => {
    const time = fc.option(fc.integer({ min: 0, max: 50 }), { nil: null, freq: 8 });
    const file = fc.record({
      times: fc.array(time, { maxLength: 40 }),
      batches: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(file, { minLength: 1, maxLength: 5 }), async (files) => {
        const records = files.map((f, i) => f.times.map((t, n) => rec(i, n + 1, t)));
        const out: LogRecord[] = [];
        const sources = files.map((f, i) => source(records[i] as LogRecord[], f.batches));
        await mergeByTime(sources, (r) => out.push(r));
        expect(out).toHaveLength(records.flat().length);
        // Each file's records in their own order.
        for (let i = 0; i < files.length; i++)
          expect(out.filter((r) => r.file === String(i))).toEqual(records[i]);
        // When a record went, no other file's next record (in the whole file order) was earlier.
        const next = records.map(() => 0);
        const overtaken: string[] = [];
        for (const r of out) {
          const i = Number(r.file);
          for (let k = 0; k < files.length; k++) {
            const other = (records[k] as LogRecord[])[next[k] as number];
            if (k !== i && other !== undefined && mergeKey(other) < mergeKey(r))
              overtaken.push(`${r.file}:${r.line} before ${other.file}:${other.line}`);
          }
          next[i] = (next[i] as number) + 1;
        }
        expect(overtaken).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("reads a source only when its queue has run dry", async () => {
    const early = source([rec(0, 1, 0), rec(0, 2, 1)], [1]);
    const late = source(
      Array.from({ length: 50 }, (_, n) => rec(1, n + 1, 100 + n)),
      [1],
    );
    const taken: string[] = [];
    const lateReads: number[] = [];
    await mergeByTime([early, late], (r) => {
      taken.push(`${r.file}:${r.line}`);
      lateReads.push(late.reads);
    });
    expect(taken.slice(0, 3)).toEqual(["0:1", "0:2", "1:1"]);
    // While the early file had records left, the late one had been read once (its first record).
    expect(lateReads.slice(0, 2)).toEqual([1, 1]);
    // One read per record, plus the one that finds the end.
    expect(late.reads).toBe(51);
  });
});

describe("an access log and an error log given as two files", () => {
  const dir = mkdtempSync(join(tmpdir(), "why403-merge-"));
  const refused = JOIN_WINDOW + 5_000;
  const base = Date.UTC(2026, 0, 5);
  const stamp = (i: number) => new Date(base + Math.floor(i / 20) * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  const clf = (d: Date) =>
    `${two(d.getUTCDate())}/Jan/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  const ngx = (d: Date) =>
    `${d.getUTCFullYear()}/01/${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  // Request i: a client unique within its second; every refused request has its nginx error line.
  const client = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const access: string[] = [];
  const errors: string[] = [];
  const mixed: string[] = [];
  for (let i = 0; i < refused; i++) {
    const d = stamp(i);
    const line = `${client(i)} - - [${clf(d)}] "POST /admin/x HTTP/1.1" 403 153 "-" "curl/8.5.0"`;
    const error = `${ngx(d)} [error] 7#7: *${i} access forbidden by rule, client: ${client(i)}, server: _, request: "POST /admin/x HTTP/1.1", host: "x"`;
    access.push(line, `${client(i)} - - [${clf(d)}] "GET / HTTP/1.1" 200 10 "-" "curl/8.5.0"`);
    errors.push(error);
    mixed.push(error, line);
  }
  const write = (name: string, lines: string[]) => {
    const p = join(dir, name);
    writeFileSync(p, `${lines.join("\n")}\n`);
    return p;
  };
  const accessLog = write("access.log", access);
  const errorLog = write("error.log", errors);
  const mixedLog = write("mixed.log", mixed);

  it("counts each refused request once, with the error line's cause, in either order", async () => {
    const one = await analyzeLogs([mixedLog], { limit: 0 });
    expect(one.denials).toBe(refused);
    expect(one.byCause.unknown).toBeUndefined();
    for (const files of [
      [accessLog, errorLog],
      [errorLog, accessLog],
    ]) {
      const r = await analyzeLogs(files, { limit: 3 });
      expect(r.denials).toBe(refused);
      expect(r.byCause).toEqual(one.byCause);
      expect(r.files.map((f) => f.denials)).toEqual([refused, refused]);
      // The first refused request: its access line and its error line, one entry.
      expect(r.entries[0]?.seenIn).toHaveLength(1);
    }
  }, 60_000);
});
