// The joiner keeps a waiting request's time as small integers and gives the
// Date back when the request is final: the times, and the joins that depend
// on them, are those of the records.
import { describe, expect, it } from "vitest";
import { ID_JOIN_SECONDS, type Joined, Joiner, NEIGHBOUR_LINES, seenLinesOf } from "./join.js";
import { makeRecord } from "./record.js";
import type { LogRecord } from "./types.js";

function denial(line: number, time: Date | null, kind: LogRecord["kind"] = "access"): LogRecord {
  return makeRecord({
    file: "f.log",
    line,
    format: kind === "access" ? "access-combined" : "nginx-error",
    kind,
    time,
    status: 403,
    method: "POST",
    path: "/p",
    client: "10.0.0.1",
    denied: true,
    message: `line ${line}`,
  });
}

function run(records: LogRecord[], window = 10): Joined[] {
  const out: Joined[] = [];
  const joiner = new Joiner((j) => out.push(j), window);
  for (const r of records) joiner.add(r);
  joiner.flush();
  return out;
}

/** Refused records of one kind of line: `base`, then the line number, a message naming it, and what a case changes. */
function recordsLike(name: string, base: Pick<LogRecord, "file" | "format" | "kind"> & Partial<LogRecord>) {
  return (line: number, fields: Partial<LogRecord> = {}): LogRecord =>
    makeRecord({ denied: true, ...base, line, message: `${name} ${line}`, ...fields });
}

/**
 * The pairs a proxy join must keep apart: `second` on another path, status
 * or method, from a public address, or seconds after `first`.
 */
function keptApart(
  first: LogRecord,
  second: (fields: Partial<LogRecord>) => LogRecord,
  at: number,
  join: (records: LogRecord[]) => Joined[],
): void {
  const changes: Array<Partial<LogRecord>> = [
    { path: "/elsewhere" },
    { status: 429 },
    { method: "GET" },
    { client: "198.51.100.4" },
    { time: new Date(at + 2500) },
  ];
  for (const change of changes) expect(join([first, second(change)]), JSON.stringify(change)).toHaveLength(2);
}

describe("Joiner times", () => {
  it("gives every final request the time of its first record, to the millisecond", () => {
    const times = [
      new Date("2026-01-05T00:00:00.123Z"),
      new Date("1931-05-06T07:08:09.999Z"),
      new Date("2099-12-31T23:59:59.001Z"),
      new Date(Number.NaN),
      null,
    ];
    const out = run(times.map((t, i) => denial(i + 1, t)));
    expect(out.map((j) => j.rec.time?.getTime() ?? null)).toEqual(times.map((t) => t?.getTime() ?? null));
  });

  it("joins an error line to the access line within two seconds, not beyond", () => {
    const t = Date.parse("2026-01-05T00:00:10.500Z");
    const out = run([
      denial(1, new Date(t)),
      denial(2, new Date(t + 1400), "error"),
      denial(3, new Date(t + 60_000)),
      denial(4, new Date(t + 62_100), "error"),
    ]);
    expect(out.map(seenLinesOf)).toEqual([[3, 4], [7], [8]]);
    expect(out[0]?.rec.time?.toISOString()).toBe("2026-01-05T00:00:10.500Z");
  });

  it("takes the time of a later record when the first had none", () => {
    const later = new Date("2026-01-05T00:00:10.000Z");
    const first = denial(1, null);
    first.requestId = "r1";
    first.ids = ["r1"];
    const second = denial(2, later, "error");
    second.ids = ["r1"];
    const out = run([first, second]);
    expect(out).toHaveLength(1);
    expect(out[0]?.rec.time?.getTime()).toBe(later.getTime());
  });

  it("shares equal one-cause alsoCauses between requests and keeps every other as it was", () => {
    const t = Date.parse("2026-01-05T00:00:00Z");
    const recs = [1, 2, 3, 4].map((n) => denial(n, new Date(t + n * 10_000), "error"));
    (recs[0] as LogRecord).alsoCauses = { "server-config": 2 };
    (recs[1] as LogRecord).alsoCauses = { "server-config": 2 };
    (recs[2] as LogRecord).alsoCauses = { "server-config": 3 };
    (recs[3] as LogRecord).alsoCauses = { "server-config": 2, "ip-restriction": 1 };
    const out = run(recs).map((j) => j.rec.alsoCauses);
    expect(out[0]).toBe(out[1]);
    expect(out).toEqual([
      { "server-config": 2 },
      { "server-config": 2 },
      { "server-config": 3 },
      { "server-config": 2, "ip-restriction": 1 },
    ]);
  });
});

describe("Joiner slots (finalised requests stay in their slot until it takes a new one)", () => {
  const t = Date.parse("2026-01-05T00:00:10.000Z");
  const other = (line: number) => ({ ...denial(line, new Date(t), "error"), client: "10.9.9.9" });

  it("never joins a record to a request already final", () => {
    // Window 1: the second request finalises the first; the access line then finds it in its slot, final.
    const out = run([denial(1, new Date(t), "error"), other(2), denial(3, new Date(t + 10))], 1);
    expect(out.map((j) => seenLinesOf(j))).toEqual([[2], [4], [7]]);
  });

  it("counts only open requests towards a slot's cap (a busy client's later requests still join)", () => {
    // 40 refused access lines of one client in one second (two access lines of a file never join),
    // each finalised by the next; then the error line of the last one must find it.
    const recs = Array.from({ length: 40 }, (_, i) => denial(i + 1, new Date(t + i)));
    recs.push(denial(41, new Date(t + 39), "error"));
    const out = run(recs, 1);
    expect(out).toHaveLength(40);
    expect(seenLinesOf(out[39] as Joined)).toEqual([81, 82]);
  });
});

describe("Joiner rule messages", () => {
  it("keeps the first record's messages, then the later record's for rules it lacks, each once", () => {
    const t = new Date("2026-01-05T00:00:10.000Z");
    const waf = (line: number, rules: string[], ruleMessages: string[]) => ({
      ...denial(line, t, "waf"),
      ids: ["u1"],
      rules,
      ruleMessages,
    });
    const out = run([
      waf(1, ["942100"], ["942100", "SQLi"]),
      waf(2, ["942100", "949110"], ["942100", "other", "949110", "score", "949110", "again"]),
      waf(3, ["942100"], ["942100", "third"]),
    ]);
    expect(out).toHaveLength(1);
    expect(out[0]?.rec.ruleMessages).toEqual(["942100", "SQLi", "949110", "score"]);
    expect(out[0]?.rec.rules).toEqual(["942100", "949110"]);
  });
});

describe("Joiner: the line that decides a request", () => {
  it("is a WAF's refusal over its warnings of the same strength, whatever came first", () => {
    const t = new Date("2026-01-05T00:00:10.000Z");
    const waf = (line: number, denied: boolean) => ({
      ...denial(line, t, "waf"),
      ids: ["u1"],
      denied,
      strength: 3,
    });
    const warningsFirst = run([waf(24, false), waf(25, false), waf(27, true)]);
    expect(warningsFirst.map((j) => [j.rec.line, j.rec.denied])).toEqual([[27, true]]);
    // The refusal first: a later warning does not take the lead.
    const refusalFirst = run([waf(27, true), waf(28, false)]);
    expect(refusalFirst.map((j) => [j.rec.line, j.rec.denied])).toEqual([[27, true]]);
  });
});

describe("Joiner: ids", () => {
  it("join lines within ID_JOIN_SECONDS of the request's first; the same id later opens another request, which keeps it", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 5, 0, 0, 0) + s * 1000);
    const waf = (line: number, s: number, client: string) => ({
      ...denial(line, at(s), "waf"),
      client,
      ids: ["copied-unique-id"],
    });
    const out = run(
      [
        waf(1, 0, "10.0.0.1"),
        waf(2, ID_JOIN_SECONDS, "10.0.0.2"),
        waf(3, 3600, "10.0.0.3"),
        waf(4, 3605, "10.0.0.4"),
      ],
      100,
    );
    expect(out.map((j) => seenLinesOf(j).map((code) => Math.floor(code / 2)))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});

describe("Joiner: requests left behind by time", () => {
  const t0 = Date.parse("2026-01-05T00:00:00.000Z");
  /** A refused access line of client `c` at second `s`, and its error line. */
  const access = (line: number, s: number, c: string) => ({
    ...denial(line, new Date(t0 + s * 1000)),
    client: c,
  });
  const error = (line: number, s: number, c: string) => ({
    ...denial(line, new Date(t0 + s * 1000 + 300), "error"),
    client: c,
  });

  it("finalises a request staleSeconds behind the latest record at once, in arrival order", () => {
    const finalised: number[] = [];
    const joiner = new Joiner((j) => finalised.push(j.rec.line), 1000, 30);
    joiner.add(access(1, 0, "10.0.0.1"));
    joiner.add(access(2, 10, "10.0.0.2"));
    joiner.add(access(3, 30, "10.0.0.3"));
    // 30 s after the first: not yet more than 30 s behind.
    expect(finalised).toEqual([]);
    joiner.add(access(4, 31, "10.0.0.4"));
    expect(finalised).toEqual([1]);
    joiner.add(access(5, 45, "10.0.0.5"));
    expect(finalised).toEqual([1, 2]);
    joiner.flush();
    expect(finalised).toEqual([1, 2, 3, 4, 5]);
  });

  it("joins lines within staleSeconds; a line further behind than that starts a request of its own", () => {
    const records = [
      error(1, 0, "10.0.0.1"),
      access(2, 5, "10.0.0.2"),
      error(3, 5, "10.0.0.2"),
      access(4, 100, "10.0.0.3"),
      // The access line of the first request, 100 s behind the latest record: that request is final by now.
      access(5, 0, "10.0.0.1"),
    ];
    const timed: Joined[] = [];
    const joiner = new Joiner((j) => timed.push(j), 1000, 30);
    for (const r of records) joiner.add(r);
    joiner.flush();
    expect(timed.map(seenLinesOf)).toEqual([[2], [5, 6], [9], [11]]);
    // The count window alone (1,000 requests, no staleSeconds) still joins it: the price is keeping every request that long.
    expect(run(records, 1000).map(seenLinesOf)).toEqual([[2, 11], [5, 6], [9]]);
  });
});

describe("Joiner neighbours: lines naming no client or id", () => {
  /** A record with no client or id, as a framework's console line or its dev server's access line. */
  const bare = (line: number, kind: LogRecord["kind"], fields: Partial<LogRecord> = {}): LogRecord =>
    makeRecord({
      file: "console.log",
      line,
      format: kind === "access" ? "django-runserver" : "text",
      kind,
      time: null,
      client: null,
      denied: true,
      message: `line ${line}`,
      ...fields,
    });
  const lines = (out: Joined[]) => out.map((j) => seenLinesOf(j).map((code) => code >> 1));

  it("join a message and the access line after it, for the same path", () => {
    const out = run([
      bare(1, "app", { path: "/login", status: 403, statusInferred: true, cause: "csrf" }),
      bare(2, "access", { path: "/login", method: "POST", status: 403 }),
    ]);
    expect(lines(out)).toEqual([[1, 2]]);
    expect(out[0]?.rec).toMatchObject({ cause: "csrf", method: "POST", status: 403 });
  });

  it("join a timed message (Django's formatted warning) and the untimed access line after it", () => {
    const out = run([
      bare(1, "app", { path: "/login", time: new Date("2026-12-03T10:15:02.123Z") }),
      bare(2, "access", { path: "/login", status: 403 }),
    ]);
    expect(lines(out)).toEqual([[1, 2]]);
  });

  it("let one of the two name no path (a stack trace's first line)", () => {
    const out = run([
      bare(1, "app", { status: 403, statusInferred: true }),
      bare(3, "access", { path: "/x", status: 403 }),
    ]);
    expect(lines(out)).toEqual([[1, 3]]);
    expect(out[0]?.rec.path).toBe("/x");
  });

  it("keep apart lines of one kind, too far apart, or disagreeing on path, method or status", () => {
    const cases: LogRecord[][] = [
      [bare(1, "app", { path: "/a" }), bare(2, "app", { path: "/a" })],
      [bare(1, "app", { path: "/a" }), bare(2 + NEIGHBOUR_LINES, "access", { path: "/a" })],
      [bare(1, "app", { path: "/a" }), bare(2, "access", { path: "/b" })],
      [bare(1, "app", { path: "/a", method: "GET" }), bare(2, "access", { path: "/a", method: "POST" })],
      [
        bare(1, "app", { path: "/a", status: 403, statusInferred: true }),
        bare(2, "access", { path: "/a", status: 429 }),
      ],
      [bare(1, "app"), bare(2, "access")],
      // A line that names a client is placed by time and client, not by neighbourhood.
      [bare(1, "app", { path: "/a" }), bare(2, "access", { path: "/a", client: "10.0.0.1" })],
    ];
    for (const records of cases)
      expect(lines(run(records)), JSON.stringify(records.map((r) => r.path))).toEqual([
        [1],
        [records[1]?.line],
      ]);
  });

  it("take only the last such line of a file, once", () => {
    const out = run([
      bare(1, "app", { path: "/a" }),
      bare(2, "app", { path: "/a" }),
      bare(3, "access", { path: "/a" }),
      bare(4, "access", { path: "/a" }),
    ]);
    expect(lines(out)).toEqual([[1], [2, 3], [4]]);
  });
});

describe("Joiner through a proxy: an application line naming the proxy's address or none", () => {
  const t = Date.parse("2026-12-03T10:15:02.000Z");
  const access = recordsLike("access", {
    file: "access.log",
    format: "access-combined",
    kind: "access",
    time: new Date(t),
    status: 403,
    method: "POST",
    path: "/api/orders",
    client: "203.0.113.9",
  });
  const app = recordsLike("app", {
    file: "app.log",
    format: "json-pino",
    kind: "app",
    time: new Date(t + 412),
    status: 403,
    method: "POST",
    path: "/api/orders",
    client: "127.0.0.1",
    cause: "csrf",
  });
  const clients = (out: Joined[]) => out.map((j) => [j.files.length, j.rec.client]);

  it("is one request with the access line, whichever comes first, and the access line's client", () => {
    expect(clients(run([access(1), app(1)]))).toEqual([[2, "203.0.113.9"]]);
    expect(clients(run([app(1), access(1)]))).toEqual([[2, "203.0.113.9"]]);
    // A container network's address, or none at all, is read alike.
    expect(clients(run([app(1, { client: "172.18.0.3" }), access(1)]))).toEqual([[2, "203.0.113.9"]]);
    expect(clients(run([access(1), app(1, { client: null })]))).toEqual([[2, "203.0.113.9"]]);
  });

  it("stays apart on another path, status or method, a public address, or seconds apart", () => {
    keptApart(
      access(1),
      (change) => app(1, change),
      t,
      (records) => run(records),
    );
  });

  it("gives each access line one application line of a file", () => {
    const out = run([access(1), access(2, { client: "198.51.100.7" }), app(1), app(2)]);
    expect(out.map((j) => j.files.length)).toEqual([2, 2]);
    expect(new Set(out.map((j) => j.rec.client))).toEqual(new Set(["203.0.113.9", "198.51.100.7"]));
  });
});

describe("Joiner: a proxy's access line and the server's behind it (several files)", () => {
  const t = Date.parse("2026-12-03T10:15:02.000Z");
  const front = recordsLike("front", {
    file: "haproxy.log",
    format: "haproxy-http",
    kind: "access",
    time: new Date(t + 120),
    status: 403,
    method: "POST",
    path: "/admin/users",
    client: "203.0.113.9",
  });
  const back = recordsLike("back", {
    file: "access.log",
    format: "access-combined",
    kind: "access",
    time: new Date(t),
    status: 403,
    method: "POST",
    path: "/admin/users",
    client: "127.0.0.1",
  });
  const error = recordsLike("error", {
    file: "error.log",
    format: "nginx-error",
    kind: "error",
    time: new Date(t),
    method: "POST",
    path: "/admin/users",
    client: "127.0.0.1",
    cause: "server-config",
    strength: 3,
  });
  function runMany(records: LogRecord[]): Joined[] {
    const out: Joined[] = [];
    const joiner = new Joiner((j) => out.push(j), 100, null, true);
    for (const r of records) joiner.add(r);
    joiner.flush();
    return out;
  }
  const shape = (out: Joined[]) => out.map((j) => [[...j.files].sort().join(" "), j.rec.client]);
  const all = "access.log error.log haproxy.log";

  it("is one request in any order, naming the proxy's client, with the server's error line", () => {
    const orders = [
      [front(1), back(1), error(1)],
      [back(1), error(1), front(1)],
      [error(1), back(1), front(1)],
      [front(1), error(1), back(1)],
    ];
    for (const records of orders)
      expect(shape(runMany(records)), records.map((r) => r.file).join(",")).toEqual([[all, "203.0.113.9"]]);
    // The error line decides the cause.
    expect(runMany(orders[0] as LogRecord[])[0]?.rec.cause).toBe("server-config");
  });

  it("reads a container network's address as a proxy's only between lines of different formats", () => {
    const privateBack = { client: "172.18.0.3" };
    expect(shape(runMany([front(1), back(1, privateBack)]))).toEqual([
      ["access.log haproxy.log", "203.0.113.9"],
    ]);
    // Two nginx servers behind one balancer each log a private address: two requests.
    const twin = (line: number, client: string, file: string) =>
      back(line, { client, file, format: "access-combined" });
    expect(runMany([twin(1, "10.0.0.5", "a.log"), twin(1, "10.0.0.6", "b.log")])).toHaveLength(2);
    // One of them logging more fields after the combined layout is still the same format.
    const more = back(1, { client: "10.0.0.6", file: "b.log", format: "access-combined+fields" });
    expect(runMany([twin(1, "10.0.0.5", "a.log"), more])).toHaveLength(2);
  });

  it("pairs a line that says its upstream answered with another format's line, whatever address that one logged", () => {
    const cdn = (line: number, fields: Partial<LogRecord> = {}) =>
      front(line, { file: "cdn.jsonl", format: "cloudflare-json", passedOn: true, ...fields });
    const origin = (line: number, fields: Partial<LogRecord> = {}) =>
      back(line, { client: "172.70.34.12", ...fields });
    expect(shape(runMany([origin(1), cdn(1)]))).toEqual([["access.log cdn.jsonl", "203.0.113.9"]]);
    expect(shape(runMany([cdn(1), origin(1), error(1, { client: "172.70.34.12" })]))).toEqual([
      ["access.log cdn.jsonl error.log", "203.0.113.9"],
    ]);
    // Without the CDN's word, two public addresses are two requests; so are two CDN lines, or one format twice.
    expect(runMany([origin(1), cdn(1, { passedOn: undefined })])).toHaveLength(2);
    expect(runMany([cdn(1), cdn(1, { file: "cdn2.jsonl", client: "198.51.100.7" })])).toHaveLength(2);
    expect(runMany([origin(1, { format: "cloudflare-json" }), cdn(1)])).toHaveLength(2);
  });

  it("keeps a few seconds indexed, also when a later group of files goes back in time", () => {
    const joiner = new Joiner(() => {}, 100, null, true);
    const at = (sec: number, line: number) => ({ time: new Date(t + sec * 1000), line });
    for (let s = 0; s < 50; s++) joiner.add(back(s, at(s, s)));
    expect(joiner.pairingSeconds).toBeLessThanOrEqual(4);
    // An hour earlier: the older rotation, read after.
    for (let s = 0; s < 50; s++) joiner.add(back(100 + s, at(s - 3600, 100 + s)));
    expect(joiner.pairingSeconds).toBeLessThanOrEqual(4);
    const appLine = (line: number, sec: number) =>
      makeRecord({ ...back(line, at(sec, line)), file: "app.log", format: "json-lines", kind: "app" });
    for (let s = 0; s < 50; s++) joiner.add(appLine(200 + s, s - 7200));
    expect(joiner.pairingSeconds).toBeLessThanOrEqual(8);
  });

  it("stays apart on another path, status or method, two public clients, or seconds apart", () => {
    keptApart(front(1), (change) => back(1, change), t, runMany);
  });

  it("gives each proxy line one server line, and pairs nothing when one file is read", () => {
    const out = runMany([front(1), front(2, { client: "198.51.100.7" }), back(1), back(2)]);
    expect(out.map((j) => j.files.length)).toEqual([2, 2]);
    expect(new Set(out.map((j) => j.rec.client))).toEqual(new Set(["203.0.113.9", "198.51.100.7"]));
    const single: Joined[] = [];
    const joiner = new Joiner((j) => single.push(j), 100, null, false);
    joiner.add(front(1));
    joiner.add(back(1));
    joiner.flush();
    expect(single).toHaveLength(2);
  });
});
