// Time stamps of the log formats we read, to Date. Formats without a zone
// (nginx and Apache error logs, ISO stamps without an offset) are read in the
// zone set by readZonelessIn(): the analysing machine's own (TZ) unless a run
// says which zone the server wrote them in (stamp-zone.ts).

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

/**
 * Year, month (0-based), day, hours, minutes, seconds of a local-time stamp, or
 * null when it is not one. Kept for the last stamp seen: a busy error log repeats
 * one second on many lines, and the pattern and number conversions were most of
 * the time parse. The Date is still built per line, from these numbers, so a
 * change of TZ is honoured and no two records share a Date.
 */
type LocalFields = [number, number, number, number, number, number] | null;

function localDate(f: LocalFields, ms: number): Date | null {
  if (f === null) return null;
  if (zoneOffsetAt === null) return valid(new Date(f[0], f[1], f[2], f[3], f[4], f[5], ms));
  return valid(new Date(wallToUtc(Date.UTC(f[0], f[1], f[2], f[3], f[4], f[5], ms))));
}

/** The zone's offset in minutes at a UTC instant; null: the machine's own zone. */
let zoneOffsetAt: ((utcMs: number) => number) | null = null;

/**
 * The zone zoneless stamps are read in from now on: an IANA name ("Europe/Berlin",
 * "UTC") or a fixed offset ("+02:00", "-0530"); null for the machine's own.
 * Throws on a zone that is neither.
 */
export function readZonelessIn(zone: string | null): void {
  if (zone === currentZone) return;
  zoneOffsetAt = zone === null ? null : offsetFunctionOf(zone);
  currentZone = zone;
}

/**
 * zoneOffsetFunction, kept per zone: each LineDispatcher asserts its zone
 * before it parses (dispatch.ts), so runs in other zones in the same process
 * switch back and forth without building a formatter each time.
 */
const offsetFunctions = new Map<string, (utcMs: number) => number>();
const MAX_OFFSET_FUNCTIONS = 64;

function offsetFunctionOf(zone: string): (utcMs: number) => number {
  let at = offsetFunctions.get(zone);
  if (at === undefined) {
    at = zoneOffsetFunction(zone);
    if (offsetFunctions.size >= MAX_OFFSET_FUNCTIONS) offsetFunctions.clear();
    offsetFunctions.set(zone, at);
  }
  return at;
}

/** The zone zoneless stamps are read in, as readZonelessIn() was given it (null: the machine's). */
export function zonelessZone(): string | null {
  return currentZone;
}
let currentZone: string | null = null;

/** Minutes ahead of UTC of an offset such as "+02:00" or "-0530" (at most 14 hours); null for anything else. */
export function fixedOffsetMinutes(zone: string): number | null {
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!fixed) return null;
  const minutes = Number(fixed[2]) * 60 + Number(fixed[3]);
  if (minutes > 14 * 60 || Number(fixed[3]) > 59) return null;
  return fixed[1] === "-" ? -minutes : minutes;
}

/**
 * The offset in minutes of `zone` (an IANA name or "+02:00") at a UTC instant.
 * Throws a RangeError for anything else.
 */
export function zoneOffsetFunction(zone: string): (utcMs: number) => number {
  const offset = fixedOffsetMinutes(zone);
  if (offset !== null) return () => offset;
  if (/^[+-]\d/.test(zone)) throw new RangeError(`not a UTC offset: ${zone}`);
  // Throws a RangeError for an unknown zone name.
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  // Zones change their offset on quarter hours at most: one lookup per quarter hour seen.
  const QUARTER = 15 * 60_000;
  const memo = new Map<number, number>();
  return (utcMs) => {
    const key = Math.floor(utcMs / QUARTER);
    let offset = memo.get(key);
    if (offset === undefined) {
      offset = offsetOf(format, key * QUARTER);
      if (memo.size > 4096) memo.clear();
      memo.set(key, offset);
    }
    return offset;
  };
}

/** Minutes the zone of `format` is ahead of UTC at `utcMs`. */
function offsetOf(format: Intl.DateTimeFormat, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(utcMs)))
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  const wall = Date.UTC(
    parts.year as number,
    (parts.month as number) - 1,
    parts.day as number,
    parts.hour as number,
    parts.minute as number,
    parts.second as number,
  );
  return Math.round((wall - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/** The UTC instant of a wall-clock time (given as if it were UTC) in the zone set. */
function wallToUtc(wall: number): number {
  const at = zoneOffsetAt as (utcMs: number) => number;
  // The offsets in force a few hours either side: a wall time that both give (the hour
  // repeated when clocks go back) is read as the earlier instant, as Date does with the
  // machine's zone; one that neither gives (the hour skipped) by the offset before it.
  const before = at(wall - 3 * 3_600_000);
  const after = at(wall + 3 * 3_600_000);
  const early = wall - Math.max(before, after) * 60_000;
  if (at(early) === Math.max(before, after)) return early;
  const late = wall - Math.min(before, after) * 60_000;
  if (at(late) === Math.min(before, after)) return late;
  return wall - before * 60_000;
}

/**
 * The nginx stamp, `^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$`, as a layout ("d" a
 * digit, any other character itself): one length, fixed places, read by position.
 */
const NGINX_STAMP = "dddd/dd/dd dd:dd:dd";
let lastNginxText: string | null = null;
let lastNginxFields: LocalFields = null;

/** nginx error log: `2026/11/26 05:00:00` (local time). */
export function parseNginxErrorTime(s: string): Date | null {
  if (s !== lastNginxText) {
    lastNginxFields = nginxFields(s);
    lastNginxText = s;
  }
  return localDate(lastNginxFields, 0);
}

function nginxFields(s: string): LocalFields {
  const t = s.trim();
  if (!fitsLayout(t, NGINX_STAMP)) return null;
  return [
    digitsAt(t, 0, 4),
    digitsAt(t, 5, 2) - 1,
    digitsAt(t, 8, 2),
    digitsAt(t, 11, 2),
    digitsAt(t, 14, 2),
    digitsAt(t, 17, 2),
  ];
}

/** `s` has the layout's length, an ASCII digit where it says "d" and its other characters elsewhere. */
function fitsLayout(s: string, layout: string): boolean {
  if (s.length !== layout.length) return false;
  for (let i = 0; i < layout.length; i++) {
    const c = s.charCodeAt(i);
    if (layout[i] === "d" ? !isDigitCode(c) : c !== layout.charCodeAt(i)) return false;
  }
  return true;
}

/** The number the `len` digits at `at` spell. */
function digitsAt(s: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) n = n * 10 + (s.charCodeAt(i) - 0x30);
  return n;
}

/**
 * A wall-clock stamp without a zone, in the two layouts development servers
 * write: `03/Dec/2026 10:15:02` (Werkzeug, Django's runserver) and
 * `2026/12/03 - 10:15:02` (Gin; also without the dash).
 */
const LOCAL_STAMP_RE =
  /^(?:(\d{2})\/([A-Za-z]{3})\/(\d{4})|(\d{4})\/(\d{2})\/(\d{2})(?: -)?) (\d{2}):(\d{2}):(\d{2})$/;
let lastLocalText: string | null = null;
let lastLocalFields: LocalFields = null;

/** A development server's zoneless stamp (LOCAL_STAMP_RE), read in the run's zone. */
export function parseLocalStamp(s: string): Date | null {
  if (s !== lastLocalText) {
    lastLocalFields = localStampFields(s.trim());
    lastLocalText = s;
  }
  return localDate(lastLocalFields, 0);
}

function localStampFields(s: string): LocalFields {
  const m = LOCAL_STAMP_RE.exec(s);
  if (!m) return null;
  const month = m[2] === undefined ? Number(m[5]) - 1 : MONTHS[m[2].toLowerCase()];
  if (month === undefined) return null;
  const [year, day] = m[1] === undefined ? [m[4], m[6]] : [m[3], m[1]];
  return [Number(year), month, Number(day), Number(m[7]), Number(m[8]), Number(m[9])];
}

export const APACHE_TIME_RE =
  /^[A-Za-z]{3} ([A-Za-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)? (\d{4})$/;

/**
 * The last Apache stamp around its fraction: the text before the fraction's dot
 * and after its digits (the whole text and "" when it has none). Apache 2.4 writes
 * microseconds, so the whole text seldom repeats but the second around it does.
 * Stamps that differ only in the fraction's digits are both valid or both not, with
 * the same calendar fields: the pattern allows no "." but the fraction's, which
 * must be followed by digits and a space.
 */
const lastApache = { head: null as string | null, tail: "", dotted: false, fields: null as LocalFields };

/** Apache error log and ctime style: `Thu Nov 26 05:00:00.123456 2026` (local time). */
export function parseApacheErrorTime(s: string): Date | null {
  const dot = s.indexOf(".");
  let end = dot + 1;
  while (end > 0 && end < s.length && isDigitCode(s.charCodeAt(end))) end++;
  // "." without digits: no stamp (the pattern says so); the uncached parse tells.
  if (dot !== -1 && end === dot + 1) return parseApacheErrorTimeUncached(s);
  if (!sameSecond(s, dot, end)) {
    lastApache.fields = apacheFields(s);
    lastApache.head = dot === -1 ? s : s.slice(0, dot);
    lastApache.tail = dot === -1 ? "" : s.slice(end);
    lastApache.dotted = dot !== -1;
  }
  return localDate(lastApache.fields, dot === -1 ? 0 : fractionMsAt(s, dot, end));
}

/** `s` (its fraction at [dot, end), dot -1 for none) is the last stamp up to the fraction's digits. */
function sameSecond(s: string, dot: number, end: number): boolean {
  const { head, tail, dotted } = lastApache;
  if (head === null || dotted !== (dot !== -1)) return false;
  if (dot === -1) return s === head;
  return dot === head.length && s.length - end === tail.length && s.startsWith(head) && s.endsWith(tail);
}

/** The fraction ".123456" in whole milliseconds (the same double as "0.123456"). */
export function fractionMs(frac: string): number {
  return Math.floor(Number(frac) * 1000);
}

/** 10^k for k up to 15, each exact (products of exact integers below 2^53). */
const POWERS_OF_TEN: number[] = [1];
for (let k = 1; k <= 15; k++) POWERS_OF_TEN.push((POWERS_OF_TEN[k - 1] as number) * 10);

/**
 * fractionMs of s[dot, end) (a "." and one or more digits) without a string
 * to convert: with at most 15 digits, their number and 10^k are exact doubles,
 * so their quotient is the double nearest the fraction, which is what Number()
 * reads too. Longer fractions take Number().
 */
export function fractionMsAt(s: string, dot: number, end: number): number {
  const k = end - dot - 1;
  if (k > 15) return fractionMs(s.slice(dot, end));
  let n = 0;
  for (let i = dot + 1; i < end; i++) n = n * 10 + (s.charCodeAt(i) - 0x30);
  return Math.floor((n / (POWERS_OF_TEN[k] as number)) * 1000);
}

function isDigitCode(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function apacheFields(s: string): LocalFields {
  const m = APACHE_TIME_RE.exec(s.trim());
  if (!m) return null;
  const month = MONTHS[(m[1] as string).toLowerCase()];
  if (month === undefined) return null;
  return [Number(m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
}

/** The parse without the memo, which the memoised one must agree with (the tests compare them). */
export function parseApacheErrorTimeUncached(s: string): Date | null {
  const m = APACHE_TIME_RE.exec(s.trim());
  if (!m) return null;
  const month = MONTHS[(m[1] as string).toLowerCase()];
  if (month === undefined) return null;
  const ms = m[6] ? fractionMs(m[6]) : 0;
  return localDate([Number(m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])], ms);
}

/** ISO 8601 / RFC 3339, and the "2026-11-26 05:00:00,123" of Python logging. */
export function parseIsoTime(s: string): Date | null {
  const t = s.trim();
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) return null;
  const iso = t.replace(",", ".").replace(" ", "T");
  if (zoneOffsetAt === null || /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(iso)) return valid(new Date(iso));
  // Wall time in the zone set: read as if UTC, then moved by the zone's offset.
  const wall = new Date(`${iso}Z`).getTime();
  return Number.isNaN(wall) ? null : valid(new Date(wallToUtc(wall)));
}

/** Epoch seconds or milliseconds (nginx $msec, pino `time`). */
export function parseEpoch(v: number): Date | null {
  if (!Number.isFinite(v) || v <= 0) return null;
  // Below 1e11 it cannot be milliseconds of any date after 1973; likewise 1e14
  // for microseconds and 1e17 for nanoseconds (Cloudflare Logpush's default).
  const ms = v < 1e11 ? v * 1000 : v < 1e14 ? v : v < 1e17 ? v / 1e3 : v / 1e6;
  return valid(new Date(ms));
}

/** Any of the above, for JSON fields and custom formats. */
export function parseAnyTime(v: unknown): Date | null {
  if (typeof v === "number") return parseEpoch(v);
  if (typeof v !== "string" || v.length > 64) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return parseEpoch(Number(v));
  const s = v.startsWith("[") && v.endsWith("]") ? v.slice(1, -1) : v;
  return parseIsoTime(s) ?? parseClfTime(s) ?? parseNginxErrorTime(s) ?? parseApacheErrorTime(s);
}
