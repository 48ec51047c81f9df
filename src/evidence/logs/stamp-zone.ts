// The zone a server wrote its zoneless stamps in, from the logs themselves.
// nginx and Apache error logs stamp lines in the server's local time with no
// zone; their access logs (nginx $time_local, Apache %t) stamp the same clock
// with its offset. Read on a machine in another zone, the error lines used to
// land hours away from their access lines, and the join counted every such
// request twice. When the logs show zoneless error stamps and every zoned
// access stamp in the sample carries one offset that the machine's own zone
// does not have at that moment, the zoneless stamps are read at that offset.
// `--tz` says it outright instead.

import { InputError } from "../../errors.js";
import { zoneOffsetFunction } from "./time.js";

/** `[26/Nov/2026:05:00:00 +0200]`: day, month, year, time, offset. */
const CLF_STAMP =
  /\[(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.\d+)? ([+-])(\d{2})(\d{2})\]/g;
/** An nginx error line's stamp, or an Apache error line's, at the start of a line. */
const ZONELESS_STAMP =
  /^(?:\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \[|\[[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4}\] )/m;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * Windows of each file looked at, evenly spread from its start to its end (bytes
 * locally, line numbers inside ClickHouse): a log from spring to autumn shows its
 * summer offset in the middle only, and eight put some in every season of a file
 * up to a few years long.
 */
export const ZONE_SAMPLE_WINDOWS = 8;

/** The zone zoneless stamps were read in, when not the machine's: asked for (--tz), or shown by the logs. */
export interface StampZone {
  zone: string;
  from: "option" | "logs";
}

export interface ShownZone {
  /** "+02:00", or the zone's name when the offset changes within the logs. */
  zone: string;
  /** Minutes ahead of UTC at the start. */
  offset: number;
  /** One instant stamped with it (ms since 1970). */
  at: number;
  /** Each later offset, in time order, with an instant stamped with it (empty: one offset throughout). */
  later: Stamped[];
}

interface Stamped {
  offset: number;
  at: number;
}

/** A stretch of the stamps, in time order, with one offset: its first and last instant. */
interface Run {
  offset: number;
  first: number;
  last: number;
}

/**
 * The zoned access stamps in `texts` in time order, as runs of one offset; null
 * when there is none. Daylight saving time makes a run per season (one change
 * in a week of logs, two in a summer and its ends); several servers in other
 * zones make many short ones, which no zone fits.
 */
function offsetsSeen(texts: string[]): Run[] | null {
  const seen: Stamped[] = [];
  for (const text of texts) {
    for (const m of text.matchAll(CLF_STAMP)) {
      const month = MONTHS.indexOf((m[2] as string).toLowerCase());
      if (month === -1) continue;
      const minutes = Number(m[8]) * 60 + Number(m[9]);
      const offset = m[7] === "-" ? -minutes : minutes;
      const wall = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
      seen.push({ offset, at: wall - offset * 60_000 });
    }
  }
  if (seen.length === 0) return null;
  seen.sort((a, b) => a.at - b.at);
  const runs: Run[] = [];
  for (const { offset, at } of seen) {
    const run = runs[runs.length - 1];
    if (run && run.offset === offset) run.last = at;
    else runs.push({ offset, first: at, last: at });
    // More runs than seasons in the samples: stamps of servers in other zones, interleaved.
    if (runs.length > MAX_RUNS) return null;
  }
  return runs;
}

/** Runs of one offset looked at most (a change every season over the sampled years). */
const MAX_RUNS = 16;

const asOffset = (minutes: number) => {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
};

/**
 * The zone the zoned access stamps show, when the samples also hold zoneless
 * error-log stamps: their one offset, or, when it changes in time order (daylight
 * saving time: once in a week of logs, twice from spring to autumn), the zone
 * whose rules give every run of them its offset and agree on when each change
 * came (every zone that fits changes at the same instants: Europe/Berlin,
 * Paris… alike). `samples`: windows of the files, in any order (their stamps
 * are put in time order). Null when there is no zoneless stamp, no zoned one,
 * or no zone fits (several servers in other zones).
 */
export function zoneShown(samples: string[]): ShownZone | null {
  if (!samples.some((s) => ZONELESS_STAMP.test(s))) return null;
  const runs = offsetsSeen(samples);
  if (runs === null) return null;
  const first = runs[0] as Run;
  const later = runs.slice(1).map((r) => ({ offset: r.offset, at: r.first }));
  const fixed = { zone: asOffset(first.offset), offset: first.offset, at: first.first, later };
  if (runs.length === 1) return fixed;
  const named = zoneChangingAt(runs);
  return named === null ? null : { ...fixed, zone: named };
}

/**
 * The IANA zone that gives each run its offset from its first to its last
 * instant, when every zone that does changes at the same instants between the
 * runs; null otherwise.
 */
function zoneChangingAt(runs: Run[]): string | null {
  let chosen: string | null = null;
  let changedAt: number[] = [];
  // Zones that fit share their rules: the name shown is the first in a familiar region.
  const names = Intl.supportedValuesOf("timeZone").sort((a, b) => regionRank(a) - regionRank(b));
  for (const name of names) {
    const at = zoneOffsetFunction(name);
    if (!runs.every((r) => at(r.first) === r.offset && at(r.last) === r.offset)) continue;
    const changes = runs.slice(1).map((r, i) => firstChange(at, (runs[i] as Run).last, r.first));
    if (chosen === null) {
      chosen = name;
      changedAt = changes;
    } else if (changes.some((c, i) => c !== changedAt[i])) return null;
  }
  return chosen;
}

const REGIONS = ["Europe/", "America/", "Asia/", "Australia/", "Africa/", "Pacific/"];
const regionRank = (name: string) => {
  const i = REGIONS.findIndex((r) => name.startsWith(r));
  return i === -1 ? REGIONS.length : i;
};

/** The first minute after `from` (up to `to`) at which the offset differs from the one at `from`. */
function firstChange(at: (ms: number) => number, from: number, to: number): number {
  const start = at(from);
  let lo = Math.floor(from / 60_000);
  let hi = Math.ceil(to / 60_000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (at(mid * 60_000) === start) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The zone to read zoneless stamps in, and why: the one asked for, else the one
 * the logs show when the machine's own zone does not give the same offsets then;
 * null for the machine's own zone.
 */
export function stampZoneFor(
  asked: string | undefined,
  samples: string[],
  machineOffsetAt: (ms: number) => number = (ms) => -new Date(ms).getTimezoneOffset(),
): StampZone | null {
  if (asked) return { zone: asked, from: "option" };
  const shown = zoneShown(samples);
  if (shown === null) return null;
  const machineFits =
    machineOffsetAt(shown.at) === shown.offset &&
    shown.later.every((s) => machineOffsetAt(s.at) === s.offset);
  return machineFits ? null : { zone: shown.zone, from: "logs" };
}

/** The one-line error for a --tz value that is neither a zone name nor an offset. */
export function notAZone(zone: string): InputError {
  return new InputError(
    `--tz: not a time zone: ${zone} (an IANA name like Europe/Berlin, or an offset like +02:00)`,
  );
}

/** Throws notAZone() for a zone that is neither an IANA name nor an offset. */
export function checkZone(zone: string): void {
  try {
    zoneOffsetFunction(zone);
  } catch {
    throw notAZone(zone);
  }
}
