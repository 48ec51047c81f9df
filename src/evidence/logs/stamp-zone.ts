// The zone a server wrote its zoneless stamps in, from the logs themselves.
// nginx and Apache error logs stamp lines in the server's local time with no
// zone; their access logs (nginx $time_local, Apache %t) stamp the same clock
// with its offset. Read on a machine in another zone, the error lines used to
// land hours away from their access lines, and the join counted every such
// request twice. When the logs show zoneless error stamps and every zoned
// access stamp in the sample carries one offset that the machine's own zone
// does not have at that moment, the zoneless stamps are read at that offset.
// `--tz` says it outright instead.

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
  /** "+02:00". */
  zone: string;
  /** Minutes ahead of UTC. */
  offset: number;
  /** One instant stamped with it (ms since 1970). */
  at: number;
}

/**
 * The one offset the zoned access stamps in `samples` carry, when the samples
 * also hold zoneless error-log stamps; null when there are none of either,
 * or the zoned ones disagree (several servers, or a change of daylight saving time).
 */
export function zoneShown(samples: string[]): ShownZone | null {
  if (!samples.some((s) => ZONELESS_STAMP.test(s))) return null;
  let shown: ShownZone | null = null;
  for (const text of samples) {
    for (const m of text.matchAll(CLF_STAMP)) {
      const month = MONTHS.indexOf((m[2] as string).toLowerCase());
      if (month === -1) continue;
      const minutes = Number(m[8]) * 60 + Number(m[9]);
      const offset = m[7] === "-" ? -minutes : minutes;
      if (shown !== null && shown.offset !== offset) return null;
      if (shown !== null) continue;
      const wall = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
      shown = { zone: `${m[7]}${m[8]}:${m[9]}`, offset, at: wall - offset * 60_000 };
    }
  }
  return shown;
}

/**
 * The zone to read zoneless stamps in, and why: the one asked for, else the one
 * the logs show when the machine's own zone is not at that offset then; null
 * for the machine's own zone.
 */
export function stampZoneFor(
  asked: string | undefined,
  samples: string[],
  machineOffsetAt: (ms: number) => number = (ms) => -new Date(ms).getTimezoneOffset(),
): StampZone | null {
  if (asked) return { zone: asked, from: "option" };
  const shown = zoneShown(samples);
  if (shown === null || machineOffsetAt(shown.at) === shown.offset) return null;
  return { zone: shown.zone, from: "logs" };
}
