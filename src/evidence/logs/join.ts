// Joining the records of one request across lines and files, in bounded
// memory: records wait in a window of the most recent JOIN_WINDOW requests,
// where later lines can join them (same request id / unique_id, or same client
// and path within a second). A request leaving the window is final: it is
// filtered, counted and maybe listed.
// Within one file, a time join pairs an access line with a line of another kind
// (the error log line of the request, in a mixed file); two access lines, or two
// error lines, of one file are two requests unless an id ties them.
import ipaddr from "ipaddr.js";
import type { CauseId } from "../../model.js";
import { redactText, redactUrl } from "../../redact.js";
import { decisiveRule, isScoringRule } from "./classify.js";
import { clearPool, clip, detach, NO_STRINGS, pathOnly, pooled } from "./record.js";
import type { LogEntry, LogRecord } from "./types.js";

/** Requests kept open for joining. Beyond it the oldest is finalised (and can no longer join). */
export const JOIN_WINDOW = 20_000;
/**
 * A request's lines carry its id within this many seconds of its first line: the
 * same id farther away (sample lines copied with their ModSecurity unique_id, an
 * id a client reuses) starts another request. ClickHouse splits an id's lines at
 * gaps this long (push-down.ts), so both paths count such lines alike, and the
 * local count no longer depends on which other files are read alongside.
 */
export const ID_JOIN_SECONDS = 30;
const MAX_RULES = 50;
const MAX_SEEN = 20;
/** Requests indexed per client and second: a flood from one client stays linear (later ones join by id only). */
const MAX_PER_SLOT = 32;
/**
 * Lines apart, in one file, that two lines naming no client or id may be
 * one request's: a framework's refusal message and the access line its
 * development server writes after it (Django's console, Express's stack trace
 * and morgan's line), which nothing else ties.
 */
export const NEIGHBOUR_LINES = 5;

/**
 * A request in the window: the first record's fields, merged with the later
 * ones', and the join's own fields, in one object (one per waiting request, not
 * a request and its record).
 */
export interface Joined extends LogRecord {
  /** The request's record: the Joined itself (what readers of the request's record ask for). */
  rec: LogRecord;
  /** Files with a line of this request, each once. */
  files: string[];
  /**
   * How many lines of this request are kept (the first MAX_SEEN), each as
   * line * 2 + 1 for an access line, line * 2 for another (numbers, not
   * objects: thousands wait in the window): the first two in seen0 and seen1
   * (most requests have one or two lines: no array to keep), the others in
   * seenMore. seenLinesOf() lists them.
   */
  seenCount: number;
  seen0: number;
  seen1: number;
  seenMore: number[] | null;
  /** The file of each of the seen lines, or null while they are all in files[0]. */
  seenFiles: string[] | null;
  seq: number;
  /** The second (counted from the joiner's first) this request is indexed under, by its client (null: not indexed by time). */
  slotSec: number | null;
  done: boolean;
  /**
   * While the request waits, its time as two small integers (V8 keeps them in
   * the object) instead of rec.time's Date and the boxed number inside it:
   * seconds counted from the joiner's first and milliseconds. rec.time is null
   * meanwhile and is given back when the request is final. False: rec.time holds
   * the time (none, invalid, or too far from the first).
   */
  packed: boolean;
  packedSec: number;
  packedMs: number;
  /** The deciding record (file, line, cause…) was itself a refusal, not a mere match. */
  leadDenied: boolean;
}

/**
 * The requests of one client in one second: most often just one, kept without a
 * list. Finalised ones stay until the slot takes a new request or their second
 * is done (fewer map writes than taking each out; every lookup skips them).
 */
type Slot = Joined | Joined[];

/** The requests of one second by client, and how many of them are open (the second is dropped at 0). */
interface Second {
  clients: Map<string, Slot>;
  open: number;
}

export class Joiner {
  private seq = 0;
  /** Open requests, oldest first, from `head` on (a queue: V8 Maps get slow when emptied from the front). */
  private queue: Array<Joined | null> = [];
  private head = 0;
  private openCount = 0;
  private readonly byId = new Map<string, Joined>();
  /** second → client → requests (numeric outer keys: no key strings built per lookup). */
  private readonly bySlot = new Map<number, Second>();

  /**
   * `staleSeconds`: a request this many seconds older than the latest record is
   * final at once (null: only the window finalises). The files are read in step
   * by time (time-merge.ts), so a record that far behind is rare; the time join
   * takes records within 2 s only.
   */
  constructor(
    private readonly onFinal: (j: Joined) => void,
    private readonly window = JOIN_WINDOW,
    private readonly staleSeconds: number | null = null,
    /**
     * Several files are read together: an access line may be a proxy's and
     * another file's the server's behind it (findAccessPair). One file never
     * holds both, so a single file skips the index this needs.
     */
    private readonly pairAccessLines = false,
  ) {}

  /** The latest second (from secBase) of any record taken. */
  private frontier = Number.NEGATIVE_INFINITY;

  /**
   * Takes a record (and ownership of it: it may be changed by later merges);
   * returns the open request it became or joined, null when it was dropped.
   */
  add(rec: LogRecord): Joined | null {
    // An access line that was not refused is no denial and nothing joins it.
    if (rec.kind === "access" && !rec.denied) return null;
    const match = this.findById(rec) ?? this.findBySlot(rec) ?? this.findByNeighbour(rec);
    const proxied = match === null ? this.findThroughProxy(rec) : null;
    if (match || proxied) {
      const j = (match ?? proxied) as Joined;
      // merge detaches what it keeps of the record.
      this.merge(j, rec);
      // The application saw the proxy's address: the access line names the client.
      if (proxied && rec.kind === "access") j.rec.client = detach(rec.client);
      if (this.unplaced.size > 0 && this.unplaced.get(rec.file) === j) this.unplaced.delete(rec.file);
      return this.pairAccessLines && rec.kind === "access" ? this.pairAccessLine(j, rec) : j;
    }
    const j = newRequest(rec, this.onlyFile(rec.file), this.seq++);
    if (unplaced(rec)) this.unplaced.set(rec.file, j);
    this.pack(j);
    this.queue.push(j);
    this.openCount++;
    this.index(j);
    if (behindProxy(rec)) this.waitForAccessLine(j, rec);
    if (j.packed && j.packedSec > this.frontier) this.frontier = j.packedSec;
    const kept = this.pairAccessLines && rec.kind === "access" ? this.pairAccessLine(j, rec) : j;
    while (this.openCount > this.window || this.headIsStale()) {
      const oldest = this.queue[this.head] as Joined;
      // Let go of it: a finalised request must not stay reachable until the queue is compacted.
      this.queue[this.head++] = null;
      this.finalise(oldest);
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return kept;
  }

  /**
   * The oldest open request is staleSeconds behind the latest record (a request
   * with no packed time waits for the window: it is rare).
   */
  private headIsStale(): boolean {
    if (this.staleSeconds === null) return false;
    const j = this.queue[this.head];
    return j?.packed === true && j.packedSec < this.frontier - this.staleSeconds;
  }

  /** One shared `[file]` per file: most requests never get a second (merges concat, never push). */
  private readonly single = new Map<string, string[]>();
  private lastFile: string | null = null;
  private lastFiles: string[] = [];
  private onlyFile(file: string): string[] {
    // Records come file by file: most often the last one's.
    if (file === this.lastFile) return this.lastFiles;
    let files = this.single.get(file);
    if (!files) {
      files = Object.freeze([file]) as string[];
      this.single.set(file, files);
    }
    this.lastFile = file;
    this.lastFiles = files;
    return files;
  }

  /** How many seconds the two proxy indexes hold (tests: they stay a few, whatever the order of the files). */
  get pairingSeconds(): number {
    return this.appWaiting.size + this.accessLines.size;
  }

  /** The sequence number the next new request will get. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Finalises the open requests that arrived before `seq` (watch: those older than its join window). */
  finaliseBefore(seq: number): void {
    while (this.head < this.queue.length) {
      const j = this.queue[this.head];
      if (j && j.seq >= seq) break;
      this.queue[this.head++] = null;
      if (j) this.finalise(j);
    }
  }

  /** Finalises everything still open (end of input). */
  flush(): void {
    clearPool();
    for (let i = this.head; i < this.queue.length; i++) this.finalise(this.queue[i] as Joined);
    this.queue = [];
    this.head = 0;
  }

  private findById(rec: LogRecord): Joined | null {
    const ids = rec.ids;
    if (ids.length === 0) return null;
    const ms = rec.time === null ? null : rec.time.getTime();
    // Indexed loops over ids and rules: for-of on the shared frozen empty list takes V8's slow iterator path.
    for (let i = 0; i < ids.length; i++) {
      const j = this.byId.get(ids[i] as string);
      if (j && this.nearInTime(j, ms)) return j;
    }
    return null;
  }

  /**
   * `ms` lies within ID_JOIN_SECONDS of the request's time (true when either is
   * missing or invalid): an id seen again much later is another request's.
   */
  private nearInTime(j: Joined, ms: number | null): boolean {
    if (ms === null) return true;
    const t = this.timeOf(j);
    return t === null || !(Math.abs(ms - t) > ID_JOIN_SECONDS * 1000);
  }

  /** Per file, the last request whose one line named no client or id (findByNeighbour). */
  private readonly unplaced = new Map<string, Joined>();

  /**
   * For a line naming no client or id: the request of the last such line
   * of the other kind (access or not) in its file, NEIGHBOUR_LINES lines before
   * it at most, whose path, method and status (recorded or implied) do not
   * disagree with it. One of the two may name no path (csurf's stack trace does
   * not): the other then gives it.
   */
  private findByNeighbour(rec: LogRecord): Joined | null {
    if (!unplaced(rec)) return null;
    const j = this.unplaced.get(rec.file);
    if (j === undefined || j.done || j.seenCount !== 1) return null;
    const a = j.rec;
    if (rec.line - a.line > NEIGHBOUR_LINES || (a.kind === "access") === (rec.kind === "access")) return null;
    if (a.path === null && rec.path === null) return null;
    if (a.path !== null && rec.path !== null && pathOnly(a.path) !== pathOnly(rec.path)) return null;
    if (a.method !== null && rec.method !== null && a.method !== rec.method) return null;
    if (a.status !== null && rec.status !== null && a.status !== rec.status) return null;
    return j;
  }

  /** Per second, requests opened by an application line that names the proxy's address or none (behindProxy). */
  private readonly appWaiting = new Map<number, Joined[]>();

  private waitForAccessLine(j: Joined, rec: LogRecord): void {
    const sec = this.secondOf((rec.time as Date).getTime());
    const list = this.appWaiting.get(sec);
    if (list) list.push(j);
    else {
      dropStaleSeconds(this.appWaiting, sec);
      this.appWaiting.set(sec, [j]);
    }
  }

  /**
   * An application behind a proxy on the same host (or in the same private
   * network) logs the proxy's address, or none: its line and the proxy's access
   * line of one request share no client. They are one request when they fall
   * within the same second or the next, for the same path, and method and
   * status do not disagree; the closest in time wins.
   */
  private findThroughProxy(rec: LogRecord): Joined | null {
    if (rec.time === null || rec.path === null) return null;
    if (rec.kind === "access") {
      if (this.appWaiting.size === 0 || rec.client === null) return null;
      const sec = this.secondOf(rec.time.getTime());
      return this.bestThroughProxy(rec, [
        this.appWaiting.get(sec),
        this.appWaiting.get(sec - 1),
        this.appWaiting.get(sec + 1),
      ]);
    }
    if (!behindProxy(rec)) return null;
    const sec = this.secondOf(rec.time.getTime());
    const candidates: Joined[][] = [];
    for (const s of [sec, sec - 1, sec + 1]) {
      for (const slot of this.bySlot.get(s)?.clients.values() ?? [])
        candidates.push(Array.isArray(slot) ? slot : [slot]);
    }
    return this.bestThroughProxy(rec, candidates);
  }

  private bestThroughProxy(rec: LogRecord, lists: Array<Joined[] | undefined>): Joined | null {
    const ms = (rec.time as Date).getTime();
    const access = rec.kind === "access";
    let best: Joined | null = null;
    let bestScore = -1;
    for (const list of lists) {
      for (const j of list ?? []) {
        const a = j.rec;
        // An access request for an application line, an application request for an access line.
        if (j.done || hasLineOfKind(j, true) === access || a.path === null) continue;
        if (pathOnly(a.path) !== pathOnly(rec.path as string)) continue;
        if (a.status !== null && rec.status !== null && a.status !== rec.status) continue;
        const score = joinScore(j, rec, this.timeOf(j), ms);
        if (score > bestScore) {
          best = j;
          bestScore = score;
        }
      }
    }
    return best;
  }

  /**
   * Per second, then per path: the access lines of open requests, for pairing
   * a proxy's access line with the line the server behind it writes of the
   * same request (pairAccessLines only).
   */
  private readonly accessLines = new Map<number, Map<string, AccessLine[]>>();

  private indexAccessLine(j: Joined, rec: LogRecord): void {
    if (rec.time === null || rec.path === null || rec.client === null) return;
    const sec = this.secondOf(rec.time.getTime());
    let paths = this.accessLines.get(sec);
    if (paths === undefined) {
      dropStaleSeconds(this.accessLines, sec);
      paths = new Map();
      this.accessLines.set(sec, paths);
    }
    const line: AccessLine = {
      j,
      client: detach(rec.client),
      format: pooled(rec.format),
      file: rec.file,
      passedOn: rec.passedOn === true,
    };
    const path = pathOnly(rec.path);
    const list = paths.get(path);
    if (list) list.push(line);
    else paths.set(path, [line]);
  }

  /**
   * Access line `rec` (now in request `j`) and an access line of another file
   * are one request seen by a proxy and by the server behind it: the two
   * requests become one, which names the client the proxy in front saw and
   * stays findable by both addresses (the server's error line names the
   * proxy's). Returns the request `rec` is in.
   */
  private pairAccessLine(j: Joined, rec: LogRecord): Joined {
    const line = this.findAccessPair(j, rec);
    if (line === null) {
      this.indexAccessLine(j, rec);
      return j;
    }
    const into = line.j;
    this.absorb(into, j);
    const client = rec.client as string;
    // The entry names the client the layer in front saw.
    const recInFront = rec.passedOn === true || (!line.passedOn && proxyBehind(line, rec));
    if (recInFront) into.rec.client = detach(client);
    this.indexUnder(into, client);
    this.indexUnder(into, line.client);
    this.indexAccessLine(into, rec);
    return into;
  }

  /**
   * A server behind a proxy logs the proxy's address: its access line and the
   * proxy's (in another file) share no client. They are one request when one
   * of the two clients is the address of a proxy in front (see proxyBehind), or
   * one line says its upstream answered (see oneRequestTwoLayers), within the
   * same second or the next, for the same path, method and status; the
   * closest in time wins. The access line of each file joins once.
   */
  private findAccessPair(j: Joined, rec: LogRecord): AccessLine | null {
    if (rec.time === null || rec.path === null || rec.client === null || rec.status === null) return null;
    const ms = rec.time.getTime();
    const sec = this.secondOf(ms);
    const path = pathOnly(rec.path);
    let best: AccessLine | null = null;
    let bestScore = -1;
    for (let k = 0; k < 3; k++) {
      const list = this.accessLines.get(k === 0 ? sec : k === 1 ? sec - 1 : sec + 1)?.get(path);
      if (list === undefined) continue;
      for (let i = 0; i < list.length; i++) {
        const line = list[i] as AccessLine;
        const other = line.j;
        if (other === j || other.done || line.file === rec.file || line.client === rec.client) continue;
        if (other.rec.status !== rec.status || j.files.some((f) => other.files.includes(f))) continue;
        if (!oneRequestTwoLayers(line, rec)) continue;
        const score = joinScore(other, rec, this.timeOf(other), ms);
        if (score > bestScore) {
          best = line;
          bestScore = score;
        }
      }
    }
    return best;
  }

  /** Request `from` becomes part of `into`: its lines, files and fields; it is no longer open nor counted. */
  private absorb(into: Joined, from: Joined): void {
    this.release(from);
    for (let i = 0; i < from.seenCount; i++) this.addSeen(into, fileOfSeen(from, i), seenAt(from, i));
    if (from.packed) {
      from.rec.time = new Date(this.timeOf(from) as number);
      from.packed = false;
    }
    this.mergeFields(into, from.rec);
  }

  /** Makes the request findable by the time join under `client` too, in the second it is indexed under. */
  private indexUnder(j: Joined, client: string): void {
    if (j.slotSec === null) return;
    const second = this.bySlot.get(j.slotSec);
    if (second === undefined) return;
    const slot = second.clients.get(client);
    if (slot === undefined || (!Array.isArray(slot) && slot.done)) second.clients.set(client, j);
    else if (!Array.isArray(slot)) {
      if (slot !== j) second.clients.set(client, [slot, j]);
    } else if (!slot.includes(j) && withoutDone(slot).length < MAX_PER_SLOT) slot.push(j);
  }

  private findBySlot(rec: LogRecord): Joined | null {
    if (!rec.time || !rec.client) return null;
    const ms = rec.time.getTime();
    const sec = this.secondOf(ms);
    let best: Joined | null = null;
    let bestScore = -1;
    // Same second first; on a tie the first found wins.
    for (let k = 0; k < 3; k++) {
      const slot = this.bySlot.get(k === 0 ? sec : k === 1 ? sec - 1 : sec + 1)?.clients.get(rec.client);
      if (slot === undefined) continue;
      if (!Array.isArray(slot)) {
        if (slot.done) continue;
        const score = joinScore(slot, rec, this.timeOf(slot), ms);
        if (score > bestScore) {
          best = slot;
          bestScore = score;
        }
        continue;
      }
      for (let i = 0; i < slot.length; i++) {
        const j = slot[i] as Joined;
        if (j.done) continue;
        const score = joinScore(j, rec, this.timeOf(j), ms);
        if (score > bestScore) {
          best = j;
          bestScore = score;
        }
      }
    }
    return best;
  }

  /** Seconds since the first record's second, when its time was valid. */
  private secBase = Number.NaN;

  /**
   * The second of `time` counted from secBase: a small integer V8 keeps
   * unboxed (seconds since 1970 are too big for that, and each would be a heap
   * number to allocate and hash). Only compared with each other: any base gives the same joins.
   */
  private secondOf(ms: number): number {
    const sec = Math.floor(ms / 1000);
    if (Number.isNaN(this.secBase) && !Number.isNaN(sec)) this.secBase = sec;
    return Number.isNaN(this.secBase) ? sec : sec - this.secBase;
  }

  private index(j: Joined): void {
    const ids = j.rec.ids;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const holder = this.byId.get(id);
      // The first request with an id keeps it, unless it is too far in time to be joined by it.
      if (holder === undefined || (holder !== j && !this.nearInTime(holder, this.timeOf(j))))
        this.byId.set(id, j);
    }
    if (j.slotSec === null && (j.packed || j.rec.time) && j.rec.client) {
      const sec = j.packed ? j.packedSec : this.secondOf((j.rec.time as Date).getTime());
      const client = j.rec.client;
      j.slotSec = sec;
      let second = this.bySlot.get(sec);
      if (!second) {
        second = { clients: new Map(), open: 0 };
        this.bySlot.set(sec, second);
      }
      second.open++;
      const slot = second.clients.get(client);
      if (slot === undefined || (!Array.isArray(slot) && slot.done)) second.clients.set(client, j);
      else if (!Array.isArray(slot)) second.clients.set(client, [slot, j]);
      else if (withoutDone(slot).length < MAX_PER_SLOT) slot.push(j);
    }
  }

  private merge(j: Joined, rec: LogRecord): void {
    this.addSeen(j, rec.file, seenCode(rec));
    this.mergeFields(j, rec);
  }

  /** One more line (`code`: seenCode) of the request, in `file`. */
  private addSeen(j: Joined, file: string, code: number): void {
    // concat, not push: exact-size arrays (see add).
    if (!j.files.includes(file)) j.files = j.files.concat(file);
    if (j.seenCount < MAX_SEEN) {
      const first = j.files[0] as string;
      if (j.seenFiles !== null || file !== first)
        j.seenFiles = (j.seenFiles ?? new Array<string>(j.seenCount).fill(first)).concat(file);
      if (j.seenCount === 1) j.seen1 = code;
      else j.seenMore = j.seenMore === null ? [code] : appended(j.seenMore, code);
      j.seenCount++;
    }
  }

  /** What `rec` says of the request that it did not know, and the lead when `rec` decides better. */
  private mergeFields(j: Joined, rec: LogRecord): void {
    const a = j.rec;
    const ids = rec.ids;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      if (!a.ids.includes(id) && a.ids.length < 20) a.ids = a.ids.concat(detach(id));
    }
    if (!j.packed && a.time === null && rec.time !== null) {
      a.time = rec.time;
      this.pack(j);
    }
    if (rec.status !== null && (a.status === null || (a.statusInferred && !rec.statusInferred))) {
      a.status = rec.status;
      a.statusInferred = rec.statusInferred;
    }
    a.method ??= pooled(rec.method);
    // A URL path beats none; an access line's request path beats a WAF's [uri].
    if (rec.path && (!a.path || (rec.kind === "access" && a.kind !== "access"))) a.path = pooled(rec.path);
    a.client ??= detach(rec.client);
    a.requestId ??= detach(rec.requestId);
    const rules = rec.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i] as string;
      if (!a.rules.includes(r) && a.rules.length < MAX_RULES) a.rules = a.rules.concat(pooled(r));
    }
    if (rec.ruleMessages) a.ruleMessages = mergedMessages(a.ruleMessages, rec.ruleMessages);
    a.denied ||= rec.denied;
    a.reason ??= rec.reason;
    // A refusal takes the lead from a mere match of the same strength (a WAF's
    // "Access denied" line over its warnings), whichever came first and whatever
    // refused line of another kind (the access line) the request holds.
    if (
      rec.strength > a.strength ||
      (rec.strength === a.strength && rec.denied && !j.leadDenied && rec.kind !== "access")
    ) {
      j.leadDenied = rec.denied;
      a.cause = rec.cause;
      a.strength = rec.strength;
      a.message = pooled(rec.message);
      a.product = rec.product;
      a.alsoCauses = sharedAlso(rec.alsoCauses);
      a.file = rec.file;
      a.line = rec.line;
      a.kind = rec.kind;
      a.format = pooled(rec.format);
    }
    this.index(j);
  }

  /** Moves rec.time into packedSec/packedMs when they can hold it exactly. */
  private pack(j: Joined): void {
    const time = j.rec.time;
    if (time === null) return;
    const ms = time.getTime();
    const sec = this.secondOf(ms);
    if (!(sec >= -SMALL && sec < SMALL)) return;
    j.packed = true;
    // Both are whole numbers in int32 range (a valid time is whole ms): `| 0` says so to V8,
    // which then keeps them in the object as small integers instead of a number box per field.
    j.packedSec = sec | 0;
    j.packedMs = (ms - (this.secBase + sec) * 1000) | 0;
    j.rec.time = null;
  }

  /** The request's time in ms since 1970: NaN for an invalid one, null for none. */
  private timeOf(j: Joined): number | null {
    if (j.packed) return (this.secBase + j.packedSec) * 1000 + j.packedMs;
    return j.rec.time === null ? null : j.rec.time.getTime();
  }

  private finalise(j: Joined): void {
    if (j.done) return;
    this.release(j);
    if (j.packed) {
      j.rec.time = new Date(this.timeOf(j) as number);
      j.packed = false;
    }
    this.onFinal(j);
  }

  /** The request is no longer open: no lookup finds it (finalised, or absorbed by another). */
  private release(j: Joined): void {
    j.done = true;
    this.openCount--;
    const ids = j.rec.ids;
    for (let i = 0; i < ids.length; i++)
      if (this.byId.get(ids[i] as string) === j) this.byId.delete(ids[i] as string);
    if (j.slotSec !== null) {
      const second = this.bySlot.get(j.slotSec) as Second;
      if (--second.open === 0) this.bySlot.delete(j.slotSec);
    }
  }
}

/**
 * An application's line whose client is a loopback or private address, or none:
 * what an application behind a proxy on its host or network logs.
 */
function behindProxy(rec: LogRecord): boolean {
  return (
    rec.kind === "app" &&
    rec.time !== null &&
    rec.path !== null &&
    (rec.client === null || isLocalAddress(rec.client))
  );
}

/**
 * Drops from an index by second the seconds that can no longer pair with a
 * record at `sec`: more than 2 before it, or far after it (files read in a
 * later group of MAX_MERGED_FILES, older rotations, go back in time).
 */
function dropStaleSeconds(bySecond: Map<number, unknown>, sec: number): void {
  for (const old of bySecond.keys()) if (old < sec - 2 || old > sec + 60) bySecond.delete(old);
}

/** An access line kept for pairing (findAccessPair): its request and what the line itself said. */
interface AccessLine {
  j: Joined;
  client: string;
  format: string;
  file: string;
  passedOn: boolean;
}

/**
 * Two access lines of other files (same path, method, status, moments apart)
 * are one request seen by two layers: one names a proxy's address in front of
 * the other (proxyBehind), or exactly one says its upstream answered and the
 * other is of another format (a CDN's or load balancer's line and the origin
 * server's, whatever address the origin logged). Two lines that both say so,
 * or one format twice, are two balancers' or two servers' requests.
 */
function oneRequestTwoLayers(line: AccessLine, rec: LogRecord): boolean {
  if (proxyBehind(line, rec) || proxyBehind(rec, line)) return true;
  return line.passedOn !== (rec.passedOn === true) && !sameFormat(line.format, rec.format);
}

/**
 * One log format, whatever fields it appends: nginx's and Apache's access
 * layouts (combined, common, vhost, with fields after) are one, as they are
 * inside ClickHouse, which reads them with one pattern.
 */
function sameFormat(a: string, b: string): boolean {
  const family = (f: string) => (f.startsWith("access-") ? "access" : f);
  return family(a) === family(b);
}

/**
 * `back`'s client can be a proxy's in front of `other`'s server: a loopback
 * address (a proxy on the same host), or a private one when the two lines are
 * of different formats (HAProxy or Traefik in a container network before
 * nginx). Two servers of one format behind one load balancer each log the
 * balancer's private address: their lines are two requests, not one.
 */
function proxyBehind(back: { client: string | null; format: string }, other: { format: string }): boolean {
  const client = back.client as string;
  return isLoopback(client) || (isLocalAddress(client) && !sameFormat(back.format, other.format));
}

function isLoopback(client: string): boolean {
  return ipaddr.isValid(client) && ipaddr.process(client).range() === "loopback";
}

/** Loopback, RFC 1918 / unique-local and link-local addresses (IPv4-mapped ones too). */
function isLocalAddress(client: string): boolean {
  if (!ipaddr.isValid(client)) return false;
  const range = ipaddr.process(client).range();
  return range === "loopback" || range === "private" || range === "uniqueLocal" || range === "linkLocal";
}

/**
 * A record naming no client or id: only its neighbours in its file can be its
 * request's other lines (a time alone ties nothing: the time join needs a client).
 */
function unplaced(rec: LogRecord): boolean {
  return rec.client === null && rec.ids.length === 0;
}

/**
 * The request `rec` opens, with the record's fields in one fixed order (one
 * object shape for all, its fields inside the object: a parser's record gains
 * fields after it is made, which V8 keeps in a separate array) and its strings
 * detached. One object literal makes them all: V8 learns at this site that its
 * objects live long and then makes them in the old generation directly (no
 * copying by the scavenges).
 */
function newRequest(rec: LogRecord, files: string[], seq: number): Joined {
  const j: Joined = {
    file: rec.file,
    line: rec.line,
    format: pooled(rec.format),
    kind: rec.kind,
    time: rec.time,
    status: rec.status,
    statusInferred: rec.statusInferred,
    method: pooled(rec.method),
    path: pooled(rec.path),
    client: detach(rec.client),
    // Empty lists are shared while the request waits (merges concat, never push).
    ids: rec.ids.length > 0 ? rec.ids.map(detach) : NO_STRINGS,
    requestId: detach(rec.requestId),
    cause: rec.cause,
    strength: rec.strength,
    alsoCauses: sharedAlso(rec.alsoCauses),
    rules: rec.rules.length > 0 ? rec.rules.map(pooled) : NO_STRINGS,
    ruleMessages: rec.ruleMessages ? detachedMessages(rec.ruleMessages) : undefined,
    message: pooled(rec.message),
    product: rec.product,
    denied: rec.denied,
    reason: rec.reason,
    detectionOnly: rec.detectionOnly,
    rec: NO_RECORD,
    files,
    seenCount: 1,
    seen0: seenCode(rec),
    seen1: 0,
    seenMore: null,
    seenFiles: null,
    seq,
    slotSec: null,
    done: false,
    packed: false,
    packedSec: 0,
    packedMs: 0,
    leadDenied: rec.denied,
  };
  j.rec = j;
  return j;
}

/** A placeholder for Joined.rec until it points to its own request. */
const NO_RECORD = Object.freeze({}) as LogRecord;

function detachedMessages(messages: string[]): string[] {
  return messages.map(pooled);
}

type AlsoCauses = LogRecord["alsoCauses"];
/** alsoCauses objects already kept (nothing changes one once made: settling a record replaces it). */
const alsoSeen: Array<NonNullable<AlsoCauses>> = [];
const ALSO_SEEN_MAX = 8;

/**
 * One shared object for equal one-cause alsoCauses: parsers make one per record
 * (a copy of their rule's), and the window would keep thousands of equal ones.
 */
function sharedAlso(also: AlsoCauses): AlsoCauses {
  if (also === undefined) return also;
  for (let i = 0; i < alsoSeen.length; i++) {
    const known = alsoSeen[i] as NonNullable<AlsoCauses>;
    if (sameCauses(known, also)) return known;
  }
  if (alsoSeen.length < ALSO_SEEN_MAX) alsoSeen.push(also);
  return also;
}

/** Both hold the same single cause and weight (key order cannot differ: Evidence reads them in order). */
function sameCauses(a: NonNullable<AlsoCauses>, b: NonNullable<AlsoCauses>): boolean {
  let key: string | null = null;
  for (const k in b) {
    if (key !== null) return false;
    key = k;
  }
  if (key === null || !Object.hasOwn(a, key) || a[key as CauseId] !== b[key as CauseId]) return false;
  let n = 0;
  for (const _ in a) n++;
  return n === 1;
}

/**
 * `kept`'s pairs, then those of `more` for ids `kept` lacks (copied out), in a
 * new exact-size array (pushing onto a copy left room for a dozen more in every
 * waiting request).
 */
function mergedMessages(kept: string[] | undefined, more: string[]): string[] {
  let added: string[] | null = null;
  for (let i = 0; i + 1 < more.length; i += 2) {
    const id = more[i] as string;
    if (kept !== undefined && ruleMessage(kept, id) !== undefined) continue;
    if (added !== null && ruleMessage(added, id) !== undefined) continue;
    if (added === null) added = [];
    added.push(pooled(id), pooled(more[i + 1] as string));
  }
  if (added === null) return kept ?? [];
  return kept ? kept.concat(added) : added.slice();
}

/** The msg of rule `id` in [id, msg…] pairs. */
function ruleMessage(messages: string[], id: string): string | undefined {
  for (let i = 0; i + 1 < messages.length; i += 2) if (messages[i] === id) return messages[i + 1];
  return undefined;
}

/** `slot` without its finalised requests, in place (the open ones keep their order). */
function withoutDone(slot: Joined[]): Joined[] {
  let kept = 0;
  for (let i = 0; i < slot.length; i++) {
    const j = slot[i] as Joined;
    if (!j.done) slot[kept++] = j;
  }
  slot.length = kept;
  return slot;
}

/** `list` with `x` after it, a new exact-size array (concat with a number takes a slow generic path). */
function appended(list: number[], x: number): number[] {
  if (list.length === 1) return [list[0] as number, x];
  if (list.length === 2) return [list[0] as number, list[1] as number, x];
  return list.concat(x);
}

/** The file of the i-th seen line. */
function fileOfSeen(j: Joined, i: number): string {
  return (j.seenFiles === null ? j.files[0] : j.seenFiles[i]) as string;
}

/** The i-th seen line's code (i < seenCount). */
function seenAt(j: Joined, i: number): number {
  return i === 0 ? j.seen0 : i === 1 ? j.seen1 : ((j.seenMore as number[])[i - 2] as number);
}

/** The codes of the request's seen lines, in order. */
export function seenLinesOf(j: Joined): number[] {
  const out: number[] = [];
  for (let i = 0; i < j.seenCount; i++) out.push(seenAt(j, i));
  return out;
}

/** The request has an access line (`access`) or another line among its seen ones. */
function hasLineOfKind(j: Joined, access: boolean): boolean {
  const odd = access ? 1 : 0;
  for (let i = 0; i < j.seenCount; i++) if (seenAt(j, i) % 2 === odd) return true;
  return false;
}

function seenCode(rec: LogRecord): number {
  return rec.line * 2 + (rec.kind === "access" ? 1 : 0);
}

/** Seconds from the joiner's first kept as small integers (31-bit): about 34 years either way. */
const SMALL = 2 ** 30;

/** -1 when the two cannot be one request; higher is a better match (times in ms: the request's and the record's). */
function joinScore(j: Joined, rec: LogRecord, aMs: number | null, recMs: number): number {
  const a = j.rec;
  // One request writes one access line, and (without ids to tie them) one other line, to a file.
  if (j.files.includes(rec.file)) {
    // Past MAX_SEEN lines it can no longer tell: two requests, as lines of one file always were.
    if (j.seenCount >= MAX_SEEN) return -1;
    const access = rec.kind === "access";
    for (let i = 0; i < j.seenCount; i++) {
      const file = j.seenFiles === null ? j.files[0] : j.seenFiles[i];
      if (file === rec.file && seenAt(j, i) % 2 === (access ? 1 : 0)) return -1;
    }
  }
  if (aMs === null) return -1;
  const dt = Math.abs(aMs - recMs);
  if (dt > 1999) return -1;
  if (a.method && rec.method && a.method !== rec.method) return -1;
  if (a.requestId && rec.requestId && a.requestId !== rec.requestId) return -1;
  let score = 1;
  if (a.path && rec.path) {
    if (pathOnly(a.path) !== pathOnly(rec.path)) return -1;
    score += 4;
  }
  if (a.denied || rec.denied) score += 2;
  // An error line's natural partner is the access line of the request, and the
  // other way round (whichever line of the request decided its cause).
  if (hasLineOfKind(j, rec.kind !== "access")) score += 2;
  return score + (dt < 1000 ? 1 : 0);
}

/** The report entry for a finalised request. */
export function toEntry(j: Joined): LogEntry {
  const a = j.rec;
  const rule = decisiveRule(a.rules);
  const entry: LogEntry = {
    time: a.time ? a.time.toISOString() : null,
    file: a.file,
    line: a.line,
    status: a.status,
    method: a.method,
    // Logged URLs and messages can hold tokens (?access_token=…, a JWT in a message).
    path: a.path === null ? null : redactUrl(a.path),
    client: a.client,
    cause: a.cause,
    rule,
    message: redactText(wafMessage(a) ?? a.message),
    requestId: a.requestId ?? a.ids[0] ?? null,
  };
  if (a.rules.length) entry.rules = [...a.rules];
  if (a.product) entry.product = a.product;
  if (j.seenCount > 1) {
    entry.seenIn = [];
    for (let i = 0; i < j.seenCount; i++) {
      const file = (j.seenFiles === null ? j.files[0] : j.seenFiles[i]) as string;
      const line = Math.floor(seenAt(j, i) / 2);
      if (file !== a.file || line !== a.line) entry.seenIn.push({ file, line });
    }
  }
  if (a.statusInferred) entry.statusInferred = true;
  if (a.reason) entry.reason = a.reason;
  return entry;
}

/** "ModSecurity refused the request: 941100 "XSS …"; also 941110, 949110 "Inbound Anomaly Score Exceeded (…)"". */
function wafMessage(a: LogRecord): string | null {
  if (a.rules.length === 0 || (a.product !== "modsecurity" && a.product !== "coraza")) return null;
  const who = a.product === "coraza" ? "Coraza" : "ModSecurity";
  const msgs = a.ruleMessages ?? [];
  const main = decisiveRule(a.rules) as string;
  const said = (id: string) => {
    const msg = ruleMessage(msgs, id);
    return msg ? `${id} "${msg}"` : id;
  };
  const others = a.rules.filter((r) => r !== main);
  const scoring = others.filter(isScoringRule).map(said);
  const content = others.filter((r) => !isScoringRule(r));
  const verb = a.detectionOnly
    ? "in DetectionOnly only logged"
    : a.denied
      ? "refused the request"
      : "matched";
  const parts = [`${who} ${verb}: rule ${said(main)}`];
  if (content.length) parts.push(`also matched ${content.join(", ")}`);
  if (scoring.length) parts.push(scoring.join(", "));
  return clip(parts.join("; "), 500);
}

/** Weights a finalised request lends each cause, for Evidence. */
export function weightsOf(a: LogRecord): Partial<Record<CauseId, number>> {
  const w: Partial<Record<CauseId, number>> = {};
  if (a.cause !== "unknown") w[a.cause] = [0, 1, 3, 4][a.strength] ?? 1;
  if (a.cause === "fs-permission" && a.strength >= 3) w[a.cause] = 5;
  for (const [c, v] of Object.entries(a.alsoCauses ?? {}))
    w[c as CauseId] = Math.max(w[c as CauseId] ?? 0, v);
  return w;
}
