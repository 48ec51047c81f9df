// LogRecords packed for the trip from a worker thread: postMessage's structured
// clone of hundreds of thousands of small objects cost more than parsing the
// lines did. A batch is a table of its distinct strings (a record's file,
// format, cause, message, … repeat from one record to the next) and two typed
// arrays (moved, not copied): fixed numeric fields, and string indexes with the
// lists' lengths. Unpacking gives records equal to the packed ones, field for
// field, optional fields absent where they were.
import type { LogRecord } from "./types.js";

export interface PackedRecords {
  count: number;
  /**
   * The batch's distinct strings end to end in UTF-8 (one buffer crosses threads
   * far faster than thousands of strings), and the byte length of each.
   */
  text: Uint8Array;
  lengths: Int32Array;
  /** Per record: line, time (ms), status, strength, flags. */
  nums: Float64Array;
  /** Per record: the string fields, then ids, rules, ruleMessages as length + indexes. */
  refs: Int32Array;
}

const NUMS = 5;
/** The string fields of a record, each with a slot in RecordPacker's last-value cache. */
const FIELDS = 11;
const NULL = -1;
const ABSENT = -2;

const KINDS: LogRecord["kind"][] = ["access", "error", "waf", "audit", "app"];
const KIND_CODE = new Map(KINDS.map((k, i) => [k, i]));

const F_INFERRED = 1;
const F_DENIED = 2;
const F_DETECTION_SET = 4;
const F_DETECTION = 8;
const F_TIME = 16;
const F_PASSED_ON = 32;
const KIND_SHIFT = 6;

export class RecordPacker {
  private strings: string[] = [];
  private index = new Map<string, number>();
  // Written in place and grown by doubling: pushing onto plain arrays and copying
  // them into typed arrays at the end cost more than the parsing in a worker.
  private nums = new Float64Array(NUMS * 1024);
  private refs = new Int32Array(16 * 1024);
  private numsLen = 0;
  private refsLen = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Per field slot, the last string written and its index: a record's fields mostly repeat the last record's. */
  private readonly lastStr: Array<string | null | undefined> = new Array(FIELDS).fill(null);
  private readonly lastIdx = new Int32Array(FIELDS).fill(NULL);

  private field(slot: number, s: string | null | undefined): void {
    if (s !== this.lastStr[slot]) {
      this.lastStr[slot] = s;
      this.lastIdx[slot] = this.str(s);
    }
    this.ref(this.lastIdx[slot] as number);
  }

  private str(s: string | null | undefined): number {
    if (s === null) return NULL;
    if (s === undefined) return ABSENT;
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.index.set(s, i);
    }
    return i;
  }

  private ref(v: number): void {
    if (this.refsLen === this.refs.length) this.refs = grown(this.refs);
    this.refs[this.refsLen++] = v;
  }

  private list(items: string[] | undefined): void {
    if (items === undefined) {
      this.ref(ABSENT);
      return;
    }
    this.ref(items.length);
    for (const s of items) this.ref(this.str(s));
  }

  add(r: LogRecord): void {
    this.count++;
    let flags = (KIND_CODE.get(r.kind) ?? 0) << KIND_SHIFT;
    if (r.statusInferred) flags |= F_INFERRED;
    if (r.denied) flags |= F_DENIED;
    if (r.detectionOnly !== undefined) flags |= F_DETECTION_SET | (r.detectionOnly ? F_DETECTION : 0);
    if (r.time !== null) flags |= F_TIME;
    if (r.passedOn === true) flags |= F_PASSED_ON;
    if (this.numsLen + NUMS > this.nums.length) this.nums = grown(this.nums);
    const nums = this.nums;
    const b = this.numsLen;
    nums[b] = r.line;
    nums[b + 1] = r.time === null ? 0 : r.time.getTime();
    nums[b + 2] = r.status ?? NULL;
    nums[b + 3] = r.strength;
    nums[b + 4] = flags;
    this.numsLen = b + NUMS;
    this.field(0, r.file);
    this.field(1, r.format);
    this.field(2, r.method);
    this.field(3, r.path);
    this.field(4, r.client);
    this.field(5, r.requestId);
    this.field(6, r.cause);
    this.field(7, r.message);
    this.field(8, r.product);
    this.field(9, r.reason);
    this.field(10, r.alsoCauses === undefined ? undefined : JSON.stringify(r.alsoCauses));
    this.list(r.ids);
    this.list(r.rules);
    this.list(r.ruleMessages);
  }

  /** The batch so far (its arrays are copies, free to transfer), and an empty packer again. */
  take(): PackedRecords {
    const out: PackedRecords = {
      count: this.count,
      text: ownBuffer(this.strings.join("")),
      lengths: Int32Array.from(this.strings, (x) => Buffer.byteLength(x, "utf8")),
      nums: this.nums.slice(0, this.numsLen),
      refs: this.refs.slice(0, this.refsLen),
    };
    this.strings = [];
    this.index = new Map();
    // The indexes were the old table's.
    this.lastStr.fill(null);
    this.lastIdx.fill(NULL);
    this.numsLen = 0;
    this.refsLen = 0;
    this.count = 0;
    return out;
  }
}

function grown<T extends Float64Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** The records of a packed batch, their line numbers moved by `lineOffset`. */
export function unpackRecords(p: PackedRecords, lineOffset: number): LogRecord[] {
  const out: LogRecord[] = [];
  unpackEach(p, lineOffset, (rec) => out.push(rec));
  return out;
}

/**
 * The records of a packed batch one at a time, each handed to `take` before the
 * next is made (a whole batch made at once outlives the young generation).
 */
export function unpackEach(p: PackedRecords, lineOffset: number, take: (rec: LogRecord) => void): void {
  const { nums, refs } = p;
  const strings = splitText(p.text, p.lengths);
  const causes = new Map<number, LogRecord["alsoCauses"]>();
  let k = 0;
  const str = (i: number): string | null => (i < 0 ? null : (strings[i] as string));
  const list = (): string[] | undefined => {
    const n = refs[k++] as number;
    if (n === ABSENT) return undefined;
    const items: string[] = new Array(n);
    for (let j = 0; j < n; j++) items[j] = strings[refs[k++] as number] as string;
    return items;
  };
  for (let r = 0; r < p.count; r++) {
    const b = r * NUMS;
    const flags = nums[b + 4] as number;
    const status = nums[b + 2] as number;
    const file = strings[refs[k] as number] as string;
    const format = strings[refs[k + 1] as number] as string;
    const method = str(refs[k + 2] as number);
    const path = str(refs[k + 3] as number);
    const client = str(refs[k + 4] as number);
    const requestId = str(refs[k + 5] as number);
    const cause = strings[refs[k + 6] as number] as LogRecord["cause"];
    const message = strings[refs[k + 7] as number] as string;
    const product = str(refs[k + 8] as number);
    const reason = refs[k + 9] as number;
    const also = refs[k + 10] as number;
    k += 11;
    const ids = list() as string[];
    const rules = list() as string[];
    const ruleMessages = list();
    const rec: LogRecord = {
      time: flags & F_TIME ? new Date(nums[b + 1] as number) : null,
      status: status === NULL ? null : status,
      statusInferred: (flags & F_INFERRED) !== 0,
      method,
      path,
      client,
      ids,
      requestId,
      cause,
      strength: nums[b + 3] as number,
      rules,
      message,
      product,
      denied: (flags & F_DENIED) !== 0,
      file,
      line: (nums[b] as number) + lineOffset,
      format,
      kind: KINDS[flags >> KIND_SHIFT] as LogRecord["kind"],
    };
    if (also !== ABSENT) {
      // Never changed in place (merges and settling replace it): one object per distinct value.
      let parsed = causes.get(also);
      if (parsed === undefined) {
        parsed = JSON.parse(strings[also] as string) as LogRecord["alsoCauses"];
        causes.set(also, parsed);
      }
      rec.alsoCauses = parsed;
    }
    if (ruleMessages !== undefined) rec.ruleMessages = ruleMessages;
    if (reason !== ABSENT) rec.reason = strings[reason] as string;
    if (flags & F_DETECTION_SET) rec.detectionOnly = (flags & F_DETECTION) !== 0;
    if (flags & F_PASSED_ON) rec.passedOn = true;
    take(rec);
  }
}

/** `s` in UTF-8 in a buffer of its own (Buffer.from may share a pooled one, which must not be moved to another thread). */
function ownBuffer(s: string): Uint8Array {
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(s, "utf8"));
  out.write(s, 0, "utf8");
  return out;
}

/**
 * The strings joined in `text`, cut at their lengths. Each is decoded on its own:
 * a slice of one big string would keep the whole batch alive as long as the join
 * keeps any of its strings.
 */
function splitText(text: Uint8Array, lengths: Int32Array): string[] {
  const bytes = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  const out: string[] = new Array(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const end = at + (lengths[i] as number);
    out[i] = bytes.toString("utf8", at, end);
    at = end;
  }
  return out;
}
