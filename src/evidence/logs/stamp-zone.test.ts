// The zone zoneless stamps are read in: parsing in a set zone (time.ts), the
// zone the logs show (stamp-zone.ts), and what it is for — an error log and an
// access log from a server in another zone than the machine's, joined.
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { analyzeLogs, zoneWindowsPerFile } from "./analyze.js";
import { stampZoneFor, zoneShown } from "./stamp-zone.js";
import {
  parseApacheErrorTime,
  parseApacheErrorTimeUncached,
  parseIsoTime,
  parseLocalStamp,
  parseNginxErrorTime,
  readZonelessIn,
  zonelessZone,
} from "./time.js";

afterEach(() => readZonelessIn(null));

const iso = (d: Date | null) => d?.toISOString();

describe("zoneless stamps in a set zone", () => {
  it("reads nginx, Apache and offset-less ISO stamps at a fixed offset; stamps with a zone keep theirs", () => {
    readZonelessIn("+05:45");
    expect(zonelessZone()).toBe("+05:45");
    expect(iso(parseNginxErrorTime("2026/11/26 05:00:00"))).toBe("2026-11-25T23:15:00.000Z");
    expect(iso(parseApacheErrorTime("Thu Nov 26 05:00:00.250000 2026"))).toBe("2026-11-25T23:15:00.250Z");
    expect(iso(parseApacheErrorTimeUncached("Thu Nov 26 05:00:00.250000 2026"))).toBe(
      "2026-11-25T23:15:00.250Z",
    );
    expect(iso(parseIsoTime("2026-11-26 05:00:00,5"))).toBe("2026-11-25T23:15:00.500Z");
    expect(iso(parseIsoTime("2026-11-26T05:00:00+01:00"))).toBe("2026-11-26T04:00:00.000Z");
    expect(iso(parseIsoTime("2026-11-26T05:00:00Z"))).toBe("2026-11-26T05:00:00.000Z");
    readZonelessIn("-0300");
    expect(iso(parseNginxErrorTime("2026/11/26 05:00:00"))).toBe("2026-11-26T08:00:00.000Z");
  });

  it("reads development servers' stamps (Werkzeug, Django's runserver, Gin) in the zone; other layouts are no time", () => {
    readZonelessIn("+05:45");
    expect(iso(parseLocalStamp("03/Dec/2026 10:15:02"))).toBe("2026-12-03T04:30:02.000Z");
    expect(iso(parseLocalStamp("2026/12/03 - 10:15:02"))).toBe("2026-12-03T04:30:02.000Z");
    expect(iso(parseLocalStamp("2026/12/03 10:15:02"))).toBe("2026-12-03T04:30:02.000Z");
    readZonelessIn("Europe/Berlin");
    expect(iso(parseLocalStamp("01/Jul/2026 05:00:00"))).toBe("2026-07-01T03:00:00.000Z");
    for (const bad of [
      "03/Foo/2026 10:15:02",
      "03/Dec/2026:10:15:02",
      "2026/12/03 -- 10:15:02",
      "3/Dec/2026 10:15:02",
      "",
    ])
      expect(parseLocalStamp(bad), bad).toBeNull();
  });

  it("follows an IANA zone's daylight saving time", () => {
    readZonelessIn("Europe/Berlin");
    // CET (+01:00) in November, CEST (+02:00) in July.
    expect(iso(parseNginxErrorTime("2026/11/26 05:00:00"))).toBe("2026-11-26T04:00:00.000Z");
    expect(iso(parseNginxErrorTime("2026/07/01 05:00:00"))).toBe("2026-07-01T03:00:00.000Z");
    // The hour before and after the switch of 29 March 2026 (01:00 UTC).
    expect(iso(parseNginxErrorTime("2026/03/29 01:30:00"))).toBe("2026-03-29T00:30:00.000Z");
    expect(iso(parseNginxErrorTime("2026/03/29 03:30:00"))).toBe("2026-03-29T01:30:00.000Z");
    // The hour skipped (02:30 on 29 March) moves forward; the hour repeated (02:30 on 25 October)
    // is its earlier instant, as Date reads them in the machine's own zone.
    expect(iso(parseNginxErrorTime("2026/03/29 02:30:00"))).toBe("2026-03-29T01:30:00.000Z");
    expect(iso(parseNginxErrorTime("2026/10/25 02:30:00"))).toBe("2026-10-25T00:30:00.000Z");
  });

  it("refuses a zone that is neither a name nor an offset", () => {
    expect(() => readZonelessIn("Mars/Olympus")).toThrow();
    expect(() => readZonelessIn("+25:00")).toThrow();
  });
});

const access = (offset: string) =>
  `10.0.0.1 - - [26/Nov/2026:05:00:00 ${offset}] "GET / HTTP/1.1" 200 1 "-" "curl/8"`;
const nginxError =
  '2026/11/26 05:00:01 [error] 7#7: *1 access forbidden by rule, client: 10.0.0.2, server: _, request: "GET /a HTTP/1.1", host: "x"';

describe("the zone the logs show", () => {
  it("is the one offset of the access stamps, when zoneless error stamps are there too", () => {
    expect(zoneShown([access("+0200"), nginxError])).toEqual({
      zone: "+02:00",
      offset: 120,
      at: Date.UTC(2026, 10, 26, 3, 0, 0),
      later: [],
    });
    // No zoneless stamp: nothing to read differently.
    expect(zoneShown([access("+0200")])).toBeNull();
    // Two offsets (two servers, or a change of daylight saving time): no single answer.
    expect(zoneShown([`${access("+0100")}\n${access("+0200")}`, nginxError])).toBeNull();
    // Apache's error stamp counts as zoneless too.
    expect(
      zoneShown([access("-0700"), "[Thu Nov 26 05:00:00.123456 2026] [core:error] [pid 1] x"])?.zone,
    ).toBe("-07:00");
  });

  it("is used only when the machine's zone is at another offset then; --tz wins", () => {
    const samples = [access("+0200"), nginxError];
    expect(stampZoneFor(undefined, samples, () => 0)).toEqual({ zone: "+02:00", from: "logs" });
    expect(stampZoneFor(undefined, samples, () => 120)).toBeNull();
    expect(stampZoneFor("Asia/Tokyo", samples, () => 0)).toEqual({ zone: "Asia/Tokyo", from: "option" });
  });
});

/**
 * 30 clients refused on one path: an access log stamped at `offset` and the
 * error log the same server wrote in its local time (zoneless), in `dir`.
 */
function serverPair(dir: string, offset: string, name: string): { accessLog: string; errorLog: string } {
  const accessLines: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < 30; i++) {
    const s = String(i).padStart(2, "0");
    accessLines.push(
      `10.0.1.${i} - - [26/Nov/2026:05:00:${s} ${offset}] "POST /admin/x HTTP/1.1" 403 153 "-" "curl/8.5.0"`,
    );
    errors.push(
      `2026/11/26 05:00:${s} [error] 7#7: *${i} access forbidden by rule, client: 10.0.1.${i}, server: _, request: "POST /admin/x HTTP/1.1", host: "x"`,
    );
  }
  const accessLog = join(dir, `${name}-access.log`);
  const errorLog = join(dir, `${name}-error.log`);
  writeFileSync(accessLog, `${accessLines.join("\n")}\n`);
  writeFileSync(errorLog, `${errors.join("\n")}\n`);
  return { accessLog, errorLog };
}

describe("an access log and an error log from a server in another zone", () => {
  const dir = mkdtempSync(join(tmpdir(), "why403-zone-"));
  // +05:45 (Nepal) and -03:30 (Newfoundland): no machine running these tests is at
  // either offset in November (checked below).
  const { accessLog, errorLog } = serverPair(dir, "+0545", "kathmandu");
  const other = serverPair(dir, "-0330", "st-johns");
  const machineOffset = -new Date(Date.UTC(2026, 10, 26)).getTimezoneOffset();

  it("are joined by the zone the access stamps show, and the report says so", async () => {
    expect(machineOffset).not.toBe(345);
    const r = await analyzeLogs([errorLog, accessLog]);
    expect(r.stampZone).toEqual({ zone: "+05:45", from: "logs" });
    expect(r.denials).toBe(30);
    expect(r.byCause.unknown).toBeUndefined();
    expect(r.entries[0]?.time).toBe("2026-11-25T23:15:00.000Z");
    // The zone is the run's only: the error log read alone afterwards is in the machine's zone.
    const alone = await analyzeLogs([errorLog]);
    expect(alone.stampZone).toBeUndefined();
    expect(alone.entries[0]?.time).toBe(new Date(2026, 10, 26, 5, 0, 0).toISOString());
  });

  it("are read in each run's own zone when runs overlap in one process", async () => {
    expect(machineOffset).not.toBe(-210);
    // Started together, the runs take turns at every read: a zone kept for the
    // process (as it once was) gave one run the other's, and it counted 60.
    const [nepal, newfoundland, told, machine] = await Promise.all([
      analyzeLogs([errorLog, accessLog]),
      analyzeLogs([other.errorLog, other.accessLog]),
      analyzeLogs([errorLog, accessLog], { timeZone: "+01:00" }),
      analyzeLogs([other.errorLog]),
    ]);
    expect([nepal.stampZone?.zone, nepal.denials]).toEqual(["+05:45", 30]);
    expect([newfoundland.stampZone?.zone, newfoundland.denials]).toEqual(["-03:30", 30]);
    expect(newfoundland.entries[0]?.time).toBe("2026-11-26T08:30:00.000Z");
    expect([told.stampZone?.zone, told.denials]).toEqual(["+01:00", 60]);
    expect(machine.entries[0]?.time).toBe(new Date(2026, 10, 26, 5, 0, 0).toISOString());
  });

  it("are joined by --tz too, and counted twice when told a wrong zone", async () => {
    const right = await analyzeLogs([errorLog, accessLog], { timeZone: "Asia/Kathmandu" });
    expect(right.stampZone).toEqual({ zone: "Asia/Kathmandu", from: "option" });
    expect(right.denials).toBe(30);
    const wrong = await analyzeLogs([errorLog, accessLog], { timeZone: "+01:00" });
    expect(wrong.denials).toBe(60);
    await expect(analyzeLogs([errorLog], { timeZone: "Nowhere/Land" })).rejects.toThrow(
      /--tz: not a time zone/,
    );
  });
});

describe("logs that span a change of daylight saving time", () => {
  const dir = mkdtempSync(join(tmpdir(), "why403-zone-dst-"));
  const p2 = (n: number) => String(n).padStart(2, "0");
  // Europe/Berlin: CEST (+0200) until 25 October 2026 01:00 UTC, then CET (+0100).
  const accessLines: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < 40; i++) {
    const [day, hm, offset] = i < 20 ? ["24", "12:00", "+0200"] : ["26", "12:00", "+0100"];
    const stamp = `${hm}:${p2(i)}`;
    accessLines.push(
      `10.0.4.${i} - - [${day}/Oct/2026:${stamp} ${offset}] "POST /admin/x HTTP/1.1" 403 153 "-" "curl/8.5.0"`,
    );
    errors.push(
      `2026/10/${day} ${stamp} [error] 7#7: *${i} access forbidden by rule, client: 10.0.4.${i}, server: _, request: "POST /admin/x HTTP/1.1", host: "x"`,
    );
  }
  const accessLog = join(dir, "access.log");
  const errorLog = join(dir, "error.log");
  writeFileSync(accessLog, `${accessLines.join("\n")}\n`);
  writeFileSync(errorLog, `${errors.join("\n")}\n`);

  it("are joined on both sides of the change without --tz: the zone is named from the offsets the access stamps show", async () => {
    const r = await analyzeLogs([errorLog, accessLog]);
    expect(r.denials).toBe(40);
    expect(r.byCause.unknown).toBeUndefined();
    // Every zone at +02:00 before and +01:00 after, changing at one instant, has the EU's rules:
    // the first European name is shown. (A machine already in such a zone reads them in its own.)
    const machineFits =
      -new Date(Date.UTC(2026, 9, 24, 10)).getTimezoneOffset() === 120 &&
      -new Date(Date.UTC(2026, 9, 26, 11)).getTimezoneOffset() === 60;
    expect(r.stampZone).toEqual(machineFits ? undefined : { zone: "Europe/Amsterdam", from: "logs" });
  });

  it("are joined on both sides of the change with --tz and the zone's name", async () => {
    const r = await analyzeLogs([errorLog, accessLog], { timeZone: "Europe/Berlin" });
    expect(r.denials).toBe(40);
    expect(r.byCause.unknown).toBeUndefined();
    // One fixed offset is right on one side only.
    const fixed = await analyzeLogs([errorLog, accessLog], { timeZone: "+02:00" });
    expect(fixed.denials).toBe(60);
  });
});

describe("logs from spring to autumn (two changes of daylight saving time)", () => {
  // Europe/Berlin: +0100 until 29 March 2026 01:00 UTC, +0200 until 25 October, then +0100.
  const seasons: Array<[string, string, string]> = [
    ["03", "20", "+0100"],
    ["06", "15", "+0200"],
    ["08", "10", "+0200"],
    ["11", "10", "+0100"],
  ];
  const MONTH: Record<string, string> = { "03": "Mar", "06": "Jun", "08": "Aug", "11": "Nov" };
  const p2 = (n: number) => String(n).padStart(2, "0");
  /** One refused request per second for `count` seconds of a day: its access line, then its error line. */
  function day([month, dayOfMonth, offset]: [string, string, string], count: number, from: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const k = from + i;
      const stamp = `12:${p2(Math.floor(i / 60))}:${p2(i % 60)}`;
      const client = `10.5.${Math.floor(k / 250)}.${k % 250}`;
      out.push(
        `${client} - - [${dayOfMonth}/${MONTH[month]}/2026:${stamp} ${offset}] "POST /admin/x HTTP/1.1" 403 153 "-" "curl/8.5.0"`,
        `2026/${month}/${dayOfMonth} ${stamp} [error] 7#7: *${k} access forbidden by rule, client: ${client}, server: _, request: "POST /admin/x HTTP/1.1", host: "x"`,
      );
    }
    return out;
  }

  it("show the summer between two winters; the start and the end alone do not", () => {
    const sample = (s: [string, string, string]) => day(s, 3, 0).join("\n");
    const [march, june, august, november] = seasons.map(sample) as [string, string, string, string];
    expect(zoneShown([march, june, august, november])?.zone).toBe("Europe/Amsterdam");
    expect(zoneShown([march, june, august, november])?.later.map((s) => s.offset)).toEqual([120, 60]);
    // The two ends only (what was sampled before): one offset, and the summer read an hour off.
    expect(zoneShown([march, november])?.zone).toBe("+01:00");
    // Offsets back and forth within a day (servers in two zones): no zone fits.
    expect(zoneShown([`${sample(["06", "15", "+0200"])}\n${sample(["06", "15", "+0100"])}`])).toBeNull();
  });

  it("are joined in every season without --tz: windows spread over the file find the summer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "why403-zone-seasons-"));
    const log = join(dir, "mixed.log");
    // Over 8 windows of 64 KiB, so that the middle of the file is sampled on its own.
    const lines = seasons.flatMap((s, i) => day(s, 900, i * 900));
    writeFileSync(log, `${lines.join("\n")}\n`);
    expect(statSync(log).size).toBeGreaterThan(8 * 64 * 1024);
    const machineIsBerlinLike = [Date.UTC(2026, 2, 20, 11), Date.UTC(2026, 5, 15, 10)].every(
      (t, i) => -new Date(t).getTimezoneOffset() === [60, 120][i],
    );
    const r = await analyzeLogs([log]);
    expect(r.denials).toBe(3600);
    // Two answers, by the machine: one already at the EU's offsets on both sides reads the
    // stamps in its own zone (no stampZone); any other gets the zone named from the logs.
    expect(r.stampZone).toEqual(machineIsBerlinLike ? undefined : { zone: "Europe/Amsterdam", from: "logs" });
  });
});

describe("zone sample windows per file", () => {
  it("keep eight for up to eight plain files, then share 64 out, down to one each", () => {
    expect([1, 2, 8, 9, 16, 32, 64, 1000].map(zoneWindowsPerFile)).toEqual([8, 8, 8, 7, 4, 2, 1, 1]);
  });
});
