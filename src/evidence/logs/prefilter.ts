// Deciding from a line's bytes, before decoding it, that it cannot yield a
// record. Nearly every line of a busy access log is a request that was not
// refused; decoding and parsing each of them was most of the time `why403 logs`
// spent. Every test here errs one way: a line it cannot be sure of is parsed.
//
// The two halves:
// - accessSkip: the line is certainly an access line the access parser reads
//   (the same fields ACCESS_RE would find) and its status is not a refusal, so
//   its record would be dropped by the join anyway.
// - mayHoldRecord (on the decoded text of the other lines): the line holds one
//   of the words some parser needs to return a record (a superset of each).
import { REFUSAL_STATUSES } from "../../model.js";
import { DENIAL_WORDS } from "./classify.js";
import { ruleHints } from "./rules.js";
import { parseClfTime } from "./time.js";

const CR = 0x0d;
const SP = 0x20;
const QUOTE = 0x22;
const DASH = 0x2d;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const COLON = 0x3a;
/** First byte of U+2028/U+2029, which `.` in ACCESS_RE does not match. */
const E2 = 0xe2;

const IS_REFUSAL = new Uint8Array(1000);
for (const s of REFUSAL_STATUSES) if (s >= 100 && s < 1000) IS_REFUSAL[s] = 1;
const STATUS_ALTERNATION = [...REFUSAL_STATUSES].join("|");

/**
 * Words some parser needs to return a record from a line that is not a plain
 * access line: an access refusal (`" 403 `), nginx's refusal messages, Apache's
 * AH codes (all the known refusals are AH0nnnn), ModSecurity and Coraza markers.
 */
export const RECORD_HINT = new RegExp(
  [
    // A status and what follows it: a space (access lines), ")" (uWSGI's "(HTTP/1.1 403)").
    `[ /"](?:${STATUS_ALTERNATION}|407)[ )]`,
    "forbidden|Permission denied|AH0\\d{4}:|ModSecurity: |Coraza: ",
    // The literal every refusal rule of data/logs/messages/ contains.
    ...ruleHints().map(escapeRegExp),
  ].join("|"),
);

/**
 * A refusal status that ends the line (PHP-FPM's access log), which RECORD_HINT
 * (no anchors, so that a text it matched can be looked for again) leaves out.
 */
export const STATUS_AT_END = new RegExp(`[ /"](?:${STATUS_ALTERNATION}|407)$`);

/**
 * RECORD_HINT has no anchor, boundary or lookaround: whether it finds in a
 * stretch of text depends on that stretch alone, so a line holding a text it
 * matched before is a line it matches.
 */
const HINT_IS_LOCAL = !/[\^$]|\\[bB]|\(\?<?[=!]/.test(RECORD_HINT.source);
/** Texts RECORD_HINT matched lately, tried first (see mayHoldRecord). */
const RECENT_HINTS = 4;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
/** Any refusal status digits: a custom format's status field is `(\d{3})` anywhere in the line. */
const STATUS_DIGITS = new RegExp(STATUS_ALTERNATION);
/**
 * JSON lines: escapes (the raw text may spell a word differently), audit
 * transactions, refusal statuses in any spelling Number() reads (403, "403",
 * 4.03e2, 0x193), a string ending in the first word of a two-word denial
 * phrase (the parser joins message and code with a space), and a request's
 * first line (Fastify's "incoming request"), whose method, URL and client a
 * later refusal line of the same request id takes (request-starts.ts).
 */
const JSON_HINT = new RegExp(
  `\\\\|transaction|why403\\.decision|\\d[eE]|0[xXoObB]|${STATUS_ALTERNATION}|incoming request`,
);
const SPAN_HINT = /(?:rate|too|many|not|insufficient|token|invalid)"/i;
/**
 * logfmt lines (logfmt.ts, read with the JSON reader's fields) pass on JSON_HINT
 * too (their values are strings Number() reads as JSON numbers are read), or on
 * a two-word phrase split across bare values ("msg=rate code=limit").
 */
const LOGFMT_SPAN_HINT = /(?:rate|too|many|not|insufficient|token|invalid)[\s"]/i;

/** What accessCheck found: parse the decoded line, skip it, or build its record from `refused`. */
export const ACCESS_PARSE = 0;
export const ACCESS_SKIP = 1;
export const ACCESS_REFUSED = 2;

/** Where the fields of a refused access line are (valid until the next accessCheck). */
export interface AccessFields {
  vhost: boolean;
  /** The client token buf[clientStart, clientEnd): printable ASCII. */
  clientStart: number;
  clientEnd: number;
  /** The request's opening and closing quotes. */
  open: number;
  close: number;
  status: number;
  /** What parseClfTime gave for the time field. */
  time: Date;
}

export class LinePrefilter {
  readonly refused: AccessFields = {
    vhost: false,
    clientStart: 0,
    clientEnd: 0,
    open: 0,
    close: 0,
    status: 0,
    time: new Date(0),
  };
  private readonly starts = new Int32Array(5);
  private readonly recentHints: string[] = [];
  private nextHint = 0;
  /** Next CR / 0xE2 byte at or after the last searched line, in the current chunk; -1 before a search. */
  private crAt = -1;
  private e2At = -1;
  private chunk: Buffer | null = null;
  private readonly lastTime = Buffer.alloc(64);
  /** lastTime as little-endian 32-bit words, compared four bytes at a time through `view`. */
  private readonly lastTimeWords = new Uint32Array(16);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private lastTimeLen = -1;
  private lastTimeOk = false;
  private lastTimeDate: Date | null = null;
  /** The last time field has one inner space (the usual "+zone" form): lines with the same one take a short path. */
  private lastTimeSimple = false;

  /** `custom`: custom formats are tried before the built-in parsers, so no access line is skipped on bytes. */
  constructor(private readonly custom: boolean) {}

  /** A new chunk: positions found in the previous one are stale. */
  newChunk(chunk: Buffer): void {
    this.chunk = chunk;
    this.view = new DataView(chunk.buffer, chunk.byteOffset, chunk.length);
    this.crAt = -1;
    this.e2At = -1;
  }

  /**
   * True when buf[s, e) (one whole, uncut line) is an access line whose status
   * is not a refusal: the access parser claims it and its record is dropped.
   */
  accessSkip(buf: Buffer, s: number, e: number): boolean {
    return this.accessCheck(buf, s, e) === ACCESS_SKIP;
  }

  /**
   * ACCESS_SKIP as accessSkip; ACCESS_REFUSED when buf[s, e) is certainly an
   * access line the access parser reads with a refusal status (its fields are
   * in `refused`); ACCESS_PARSE otherwise.
   */
  accessCheck(buf: Buffer, s: number, e: number): number {
    const PARSE = ACCESS_PARSE;
    if (this.custom || buf !== this.chunk || e - s < 24) return PARSE;
    const b0 = buf[s] as number;
    // Lines other parsers look at first: JSON, Apache error "[Thu …", nginx error "2026/…", audit "--".
    if (b0 === LBRACE || (b0 === DASH && buf[s + 1] === DASH)) return PARSE;
    if (b0 === LBRACKET && isLetter(buf[s + 1] as number)) return PARSE;
    if (isDigit(b0) && isDigit(buf[s + 1] as number) && isDigit(buf[s + 2] as number)) {
      if (isDigit(buf[s + 3] as number) && buf[s + 4] === SLASH) return PARSE;
    }
    // `.` in ACCESS_RE stops at CR, U+2028 and U+2029: leave such lines to the parser.
    if (this.crAt !== -2 && this.crAt < s) this.crAt = buf.indexOf(CR, s);
    if (this.crAt === -1) this.crAt = -2;
    if (this.crAt >= 0 && this.crAt < e) return PARSE;
    if (this.e2At !== -2 && this.e2At < s) this.e2At = buf.indexOf(E2, s);
    if (this.e2At === -1) this.e2At = -2;
    if (this.e2At >= 0 && this.e2At < e) return PARSE;

    // [vhost:port ]client ident user [time] — five space-separated tokens of printable ASCII.
    const starts = this.starts;
    let i = s;
    let open: number;
    let j: number;
    let vhost = false;
    for (let n = 0; n < 3; n++) {
      starts[n] = i;
      const t0 = i;
      while (i < e) {
        const c = buf[i] as number;
        if (c === SP) break;
        if (c < 0x21 || c > 0x7e) return PARSE;
        i++;
      }
      if (i === t0 || i >= e) return PARSE;
      i++;
    }
    const L = this.lastTimeLen;
    if (
      this.lastTimeSimple &&
      buf[i] === LBRACKET &&
      i + L + 3 < e &&
      buf[i + L + 1] === RBRACKET &&
      buf[i + L + 2] === SP &&
      buf[i + L + 3] === QUOTE &&
      this.sameAsLastTime(buf, i + 1)
    ) {
      // The time of the line before, "[d/Mon/y:h:m:s +zone]": the fourth and fifth
      // tokens are that time's two halves, which is what the general path below finds.
      if (!this.lastTimeOk) return PARSE;
      open = i;
      j = i + 1 + L;
    } else {
      for (let n = 3; n < 5; n++) {
        starts[n] = i;
        const t0 = i;
        while (i < e) {
          const c = buf[i] as number;
          if (c === SP) break;
          if (c < 0x21 || c > 0x7e) return PARSE;
          i++;
        }
        if (i === t0 || i >= e) return PARSE;
        i++;
      }
      // ACCESS_RE tries the vhost form first: "[" opening the fifth token; else the fourth.
      const t3 = buf[starts[3] as number] === LBRACKET;
      const t4 = buf[starts[4] as number] === LBRACKET;
      if (t3 && !t4) open = starts[3] as number;
      else if (t4 && !t3 && vhostShaped(buf, starts[0] as number, (starts[1] as number) - 1)) {
        open = starts[4] as number;
        vhost = true;
      } else return PARSE;

      // [time] "request"
      const ts = open + 1;
      j = ts;
      while (j < e && buf[j] !== RBRACKET) {
        const c = buf[j] as number;
        if (c < SP || c > 0x7e) return PARSE;
        j++;
      }
      if (j === ts || j + 2 >= e || buf[j + 1] !== SP || buf[j + 2] !== QUOTE) return PARSE;
      if (!this.timeOk(buf, ts, j)) return PARSE;
    }
    const q = j + 2;
    let c = buf.indexOf(QUOTE, q + 1);
    while (c !== -1 && c < e && escaped(buf, q + 1, c)) c = buf.indexOf(QUOTE, c + 1);
    // `" NNN X`: the status, then a non-blank bytes field.
    if (c === -1 || c + 6 >= e || buf[c + 1] !== SP || buf[c + 5] !== SP) return PARSE;
    const d0 = (buf[c + 2] as number) - 0x30;
    const d1 = (buf[c + 3] as number) - 0x30;
    const d2 = (buf[c + 4] as number) - 0x30;
    if (d0 < 0 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return PARSE;
    const next = buf[c + 6] as number;
    if (next < 0x21 || next > 0x7e) return PARSE;
    const status = d0 * 100 + d1 * 10 + d2;
    if (IS_REFUSAL[status] === 0) return ACCESS_SKIP;
    const r = this.refused;
    r.vhost = vhost;
    r.clientStart = r.vhost ? (starts[1] as number) : (starts[0] as number);
    r.clientEnd = (r.vhost ? (starts[2] as number) : (starts[1] as number)) - 1;
    r.open = q;
    r.close = c;
    r.status = status;
    r.time = this.lastTimeDate as Date;
    return ACCESS_REFUSED;
  }

  /**
   * For a line accessSkip could not skip, decoded: false when no parser could
   * return a record from it. (Audit lines are the caller's: they depend on state.)
   */
  /** The line holds the digits of a refusal status somewhere (a line read by columns whose record needs one). */
  mayHoldStatus(text: string): boolean {
    return STATUS_DIGITS.test(text);
  }

  mayHoldRecord(text: string): boolean {
    if (this.holdsRecentHint(text)) return true;
    // Only the tail can hold it: no scan of a long line for it.
    if (STATUS_AT_END.test(text.slice(-4))) return true;
    const hint = RECORD_HINT.exec(text);
    if (hint) {
      this.rememberHint(hint[0]);
      return true;
    }
    if (text.charCodeAt(0) === LBRACE) {
      if (JSON_HINT.test(text) || DENIAL_WORDS.test(text) || SPAN_HINT.test(text)) return true;
    }
    if (
      text.includes("=") &&
      (JSON_HINT.test(text) || DENIAL_WORDS.test(text) || LOGFMT_SPAN_HINT.test(text))
    )
      return true;
    if (this.custom && STATUS_DIGITS.test(text)) return true;
    return text.startsWith("--");
  }

  /**
   * A busy log repeats a few kinds of refusal line, each matching RECORD_HINT on
   * the same text ("ModSecurity: ", "limiting requests"): includes() finds such a
   * text faster than the pattern's forty alternatives, on a long line by far.
   */
  private holdsRecentHint(text: string): boolean {
    const recent = this.recentHints;
    for (let i = 0; i < recent.length; i++) if (text.includes(recent[i] as string)) return true;
    return false;
  }

  private rememberHint(found: string): void {
    if (!HINT_IS_LOCAL) return;
    const recent = this.recentHints;
    if (recent.length < RECENT_HINTS) recent.push(found);
    else recent[this.nextHint++ % RECENT_HINTS] = found;
  }

  /** parseClfTime accepts buf[a, b) (all printable ASCII); the last answer is kept. */
  private timeOk(buf: Buffer, a: number, b: number): boolean {
    const len = b - a;
    if (len === this.lastTimeLen && this.sameAsLastTime(buf, a)) return this.lastTimeOk;
    this.lastTimeDate = parseClfTime(buf.toString("latin1", a, b));
    this.lastTimeOk = this.lastTimeDate !== null;
    if (len <= this.lastTime.length) {
      buf.copy(this.lastTime, 0, a, b);
      this.lastTimeLen = len;
      for (let w = 0; w * 4 + 4 <= len; w++) this.lastTimeWords[w] = this.lastTime.readUInt32LE(w * 4);
      this.lastTimeSimple = oneInnerSpace(buf, a, b);
    } else {
      this.lastTimeLen = -1;
      this.lastTimeSimple = false;
    }
    return this.lastTimeOk;
  }

  /** buf[a, a + lastTimeLen) holds the bytes of the last time field. */
  private sameAsLastTime(buf: Buffer, a: number): boolean {
    const last = this.lastTime;
    const len = this.lastTimeLen;
    let k = 0;
    // buf is the current chunk (accessCheck's first test) and buf[a, a + len) lies in it.
    const view = this.view;
    const words = this.lastTimeWords;
    for (; k + 4 <= len; k += 4) if (view.getUint32(a + k, true) !== words[k >> 2]) return false;
    while (k < len && last[k] === buf[a + k]) k++;
    return k === len;
  }
}

/**
 * buf[a, b) (no "]") splits at its one space into two non-empty halves, the
 * second not opening with "[": then "[" + it + "]" are two whole tokens.
 */
function oneInnerSpace(buf: Buffer, a: number, b: number): boolean {
  const sp = buf.indexOf(SP, a);
  if (sp <= a || sp >= b - 1 || buf[sp + 1] === LBRACKET) return false;
  const again = buf.indexOf(SP, sp + 1);
  return again === -1 || again >= b;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** buf[a, b) matches `^\S+:\d+$` (a vhost:port token). */
function vhostShaped(buf: Buffer, a: number, b: number): boolean {
  let k = b - 1;
  while (k > a && isDigit(buf[k] as number)) k--;
  return k < b - 1 && k > a && buf[k] === COLON;
}

/** The quote at `at` is escaped: an odd run of backslashes before it (not before `from`). */
function escaped(buf: Buffer, from: number, at: number): boolean {
  let k = at - 1;
  while (k >= from && buf[k] === BACKSLASH) k--;
  return (at - 1 - k) % 2 === 1;
}
