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
  /** The other offset, at the files' ends, and an instant stamped with it; null when the same. */
  until: { offset: number; at: number } | null;
}

interface Stamped {
  offset: number;
  at: number;
}

/**
 * The offsets of the zoned access stamps in `texts`: the earliest stamp's and the
 * latest's, when in time order the offset changes at most once (a change of
 * daylight saving time); null when there is none, or the offsets go back and
 * forth (several servers).
 */
function offsetsSeen(texts: string[]): { first: Stamped; last: Stamped } | null {
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
  let changes = 0;
  for (let i = 1; i < seen.length; i++)
    if ((seen[i] as Stamped).offset !== (seen[i - 1] as Stamped).offset) changes++;
  if (changes > 1) return null;
  return { first: seen[0] as Stamped, last: seen[seen.length - 1] as Stamped };
}

const asOffset = (minutes: number) => {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
};

/**
 * The zone the zoned access stamps show, when the samples also hold zoneless
 * error-log stamps: the one offset of the files' starts (`starts`) and, when their
 * ends (`ends`) show another (a change of daylight saving time in between), the
 * zone whose rules give both and agree on when it changed (every zone that fits
 * changes at the same instant: Europe/Berlin, Paris… alike). Null when there is
 * no zoneless stamp, no zoned one, or the starts disagree (several servers).
 */
export function zoneShown(starts: string[], ends: string[] = []): ShownZone | null {
  const samples = [...starts, ...ends];
  if (!samples.some((s) => ZONELESS_STAMP.test(s))) return null;
  const seen = offsetsSeen(samples);
  if (seen === null) return null;
  const { first, last } = seen;
  const fixed = { zone: asOffset(first.offset), offset: first.offset, at: first.at, until: null };
  if (last.offset === first.offset) return fixed;
  const named = zoneChangingBetween(first, last);
  return named === null ? null : { ...fixed, zone: named, until: last };
}

/**
 * The IANA zone at `first.offset` at first.at and `last.offset` at last.at, when
 * every zone that is changes its offset at the same instant in between; null otherwise.
 */
function zoneChangingBetween(
  first: { offset: number; at: number },
  last: { offset: number; at: number },
): string | null {
  let chosen: string | null = null;
  let changedAt: number | null = null;
  // Zones that fit share their rules: the name shown is the first in a familiar region.
  const names = Intl.supportedValuesOf("timeZone").sort((a, b) => regionRank(a) - regionRank(b));
  for (const name of names) {
    const at = zoneOffsetFunction(name);
    if (at(first.at) !== first.offset || at(last.at) !== last.offset) continue;
    const change = firstChange(at, first.at, last.at);
    if (chosen === null) {
      chosen = name;
      changedAt = change;
    } else if (change !== changedAt) return null;
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
  starts: string[],
  ends: string[] = [],
  machineOffsetAt: (ms: number) => number = (ms) => -new Date(ms).getTimezoneOffset(),
): StampZone | null {
  if (asked) return { zone: asked, from: "option" };
  const shown = zoneShown(starts, ends);
  if (shown === null) return null;
  const machineFits =
    machineOffsetAt(shown.at) === shown.offset &&
    (shown.until === null || machineOffsetAt(shown.until.at) === shown.until.offset);
  return machineFits ? null : { zone: shown.zone, from: "logs" };
}

/** The one-line error for a --tz value that is neither a zone name nor an offset. */
export function notAZone(zone: string): InputError {
  return new InputError(
    `--tz: not a time zone: ${zone} (an IANA name like Europe/Berlin, or an offset like +02:00)`,
  );
}
