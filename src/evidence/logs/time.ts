// Time stamps of the log formats we read, to Date. Formats without a zone
// (nginx and Apache error logs) are read as the analysing machine's local time.

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

function valid(d: Date): Date | null {
  return Number.isNaN(d.getTime()) ? null : d;
}

function zoneMinutes(zone: string): number {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? -minutes : minutes;
}

/**
 * A one-entry cache: a busy log repeats the same second on hundreds of lines in a
 * row. The Date is shared between the records of those lines; nothing mutates it.
 * (Only for stamps with a zone: local-time stamps depend on TZ, which may change.)
 */
class LastTime {
  private text: string | null = null;
  private value: Date | null = null;
  get(s: string, parse: (s: string) => Date | null): Date | null {
    if (s === this.text) return this.value;
    this.value = parse(s);
    this.text = s;
    return this.value;
  }
}
const lastClf = new LastTime();

export const CLF_TIME_RE =
  /^(\d{1,2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*([+-]\d{2}:?\d{2})?$/;
export const MONTH_NAMES = Object.keys(MONTHS);

/** Common Log Format: `26/Nov/2026:05:00:00 +0000` (fractions allowed, as in ModSecurity). */
export function parseClfTime(s: string): Date | null {
  return lastClf.get(s, parseClfTimeUncached);
}

function parseClfTimeUncached(s: string): Date | null {
  const m = CLF_TIME_RE.exec(s.trim());
  if (!m) return null;
  const month = MONTHS[(m[2] as string).toLowerCase()];
  if (month === undefined) return null;
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  return valid(new Date(utc - zoneMinutes(m[8] ?? "+0000") * 60_000));
}

/** nginx error log: `2026/11/26 05:00:00` (local time). */
export function parseNginxErrorTime(s: string): Date | null {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s.trim());
  if (!m) return null;
  return valid(
    new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
}

export const APACHE_TIME_RE =
  /^[A-Za-z]{3} ([A-Za-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)? (\d{4})$/;

/** Apache error log and ctime style: `Thu Nov 26 05:00:00.123456 2026` (local time). */
export function parseApacheErrorTime(s: string): Date | null {
  const m = APACHE_TIME_RE.exec(s.trim());
  if (!m) return null;
  const month = MONTHS[(m[1] as string).toLowerCase()];
  if (month === undefined) return null;
  const ms = m[6] ? Math.floor(Number(`0${m[6]}`) * 1000) : 0;
  return valid(new Date(Number(m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), ms));
}

/** ISO 8601 / RFC 3339, and the "2026-11-26 05:00:00,123" of Python logging. */
export function parseIsoTime(s: string): Date | null {
  const t = s.trim();
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) return null;
  return valid(new Date(t.replace(",", ".").replace(" ", "T")));
}

/** Epoch seconds or milliseconds (nginx $msec, pino `time`). */
export function parseEpoch(v: number): Date | null {
  if (!Number.isFinite(v) || v <= 0) return null;
  // Below 1e11 it cannot be milliseconds of any date after 1973.
  return valid(new Date(v < 1e11 ? v * 1000 : v));
}

/** Any of the above, for JSON fields and custom formats. */
export function parseAnyTime(v: unknown): Date | null {
  if (typeof v === "number") return parseEpoch(v);
  if (typeof v !== "string" || v.length > 64) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return parseEpoch(Number(v));
  const s = v.startsWith("[") && v.endsWith("]") ? v.slice(1, -1) : v;
  return parseIsoTime(s) ?? parseClfTime(s) ?? parseNginxErrorTime(s) ?? parseApacheErrorTime(s);
}
