// nginx's "access forbidden by rule", Apache's AH01630 (and HAProxy, Squid,
// Envoy ACL refusals) are the same line for an address rule (`deny 1.2.3.4`,
// `Require ip …`) and for a blanket deny (`deny all`, `Require all denied`).
// The line alone cannot tell; the rest of the evidence can:
// - the config, when given (--nginx-conf / --apache-conf): its evaluator names
//   the deciding directive and its cause;
// - the same logs: another client allowed (2xx/3xx) on the same path means the
//   rule looks at the address; two or more clients refused there and nobody
//   allowed means it refuses everyone.
// Allowed requests are plain access lines the fast path never decodes, so they
// are looked up for the refused paths: during the first pass from the moment a
// path is known (allowed-watch.ts), and in a second pass over what came before
// (stdin cannot be read twice: there only the config decides).
import type { CauseId } from "../../model.js";
import type { ConfigDecision, ConfigRequest } from "../config-decision.js";
import {
  type AllowedSighting,
  type AllowedWatch,
  isAllowedAccess,
  MAX_CLIENTS,
  MAX_PATHS,
  mayBeAllowed,
} from "./allowed-watch.js";
import { LineDispatcher } from "./dispatch.js";
import type { Joined } from "./join.js";
import { type LineSink, LineSplitter, openLog } from "./lines.js";
import { LinePrefilter } from "./prefilter.js";
import { clip, pathOnly } from "./record.js";
import { type LogFileSummary, type LogRecord, STRENGTH } from "./types.js";

export { isAddressOrBlanket } from "./allowed-watch.js";

export type ConfigEvaluator = (request: ConfigRequest) => ConfigDecision;

/**
 * The second pass over file `fileIndex` done elsewhere (worker threads, parallel.ts):
 * the allowed requests on `keys` as sightings in file order, or null to read it here.
 */
export type AllowedElsewhere = (
  fileIndex: number,
  path: string,
  keys: string[],
) => Promise<AllowedSighting[] | null>;

interface PathFacts {
  refused: Set<string>;
  allowed: Set<string>;
}

export class AddressRuleEvidence {
  private readonly byPath = new Map<string, PathFacts>();
  /** The zone the run read zoneless stamps in (time.ts): the second pass reads them in it too. */
  zone: string | null = null;

  constructor(private readonly evaluate: ConfigEvaluator | null) {}

  /** The path is one whose refused and allowed clients are gathered. */
  tracks(path: string): boolean {
    return this.byPath.has(pathOnly(path));
  }

  /** Remembers a held-back denial's path and client. */
  note(j: Joined): void {
    const a = j.rec;
    if (!a.path) return;
    const key = pathOnly(a.path);
    let facts = this.byPath.get(key);
    if (!facts) {
      if (this.byPath.size >= MAX_PATHS) return;
      facts = { refused: new Set(), allowed: new Set() };
      this.byPath.set(key, facts);
    }
    if (a.client && facts.refused.size < MAX_CLIENTS) facts.refused.add(a.client);
  }

  /**
   * Finds allowed clients on the noted paths in the files that can hold them
   * (access-type formats, not stdin), in file order; stops once every path has
   * one. With a first-pass `watch` that covers the paths, only the lines read
   * before a path was watched are read again; otherwise every file is.
   */
  async gatherAllowed(
    files: LogFileSummary[],
    watch?: AllowedWatch,
    elsewhere?: AllowedElsewhere,
  ): Promise<void> {
    if (this.byPath.size === 0) return;
    const keys = [...this.byPath.keys()];
    const seen = watch?.covers(keys) ? watch : null;
    let sightings = 0;
    for (let f = 0; f < files.length; f++) {
      const summary = files[f] as LogFileSummary;
      // Sightings of the files skipped below are passed over too.
      const until = seen ? seen.rereadBefore(f, keys) : Number.MAX_SAFE_INTEGER;
      if (summary.path === "-" || !mayHoldAllowed(summary.format)) continue;
      const finder = new AllowedFinder(summary.path, this.byPath, this.zone, until);
      if (finder.done) return;
      const ranged = until > 0 && !seen && elsewhere ? await elsewhere(f, summary.path, finder.keys) : null;
      if (ranged) {
        finder.replay(ranged, 0, f, 0);
        continue;
      }
      if (until > 0) {
        await readUntilStopped(summary.path, finder);
        // A decoded line opened an audit record: its state would carry on. Read it all, as before.
        if (finder.dirty && seen) return this.gatherAllowedAgain(files);
      }
      if (!seen) continue;
      while (sightings < seen.sightings.length && (seen.sightings[sightings] as AllowedSighting).file < f)
        sightings++;
      sightings = finder.replay(seen.sightings, sightings, f, until);
    }
  }

  /** The full second pass from scratch (what the watch could not vouch for). */
  private async gatherAllowedAgain(files: LogFileSummary[]): Promise<void> {
    for (const facts of this.byPath.values()) facts.allowed.clear();
    await this.gatherAllowed(files);
  }

  /** Settles one held-back denial from the config or the log evidence (in place). */
  decide(j: Joined): void {
    const a = j.rec;
    if (this.evaluate && a.path && this.byConfig(a)) return;
    const verdict = this.byLogs(a.path);
    if (verdict) settle(a, verdict.cause, verdict.why);
  }

  /**
   * The cause the logs show for every ambiguous denial on a path (one answer
   * per path, so counts do not depend on how many were held back), or null.
   */
  byLogs(path: string | null): { cause: CauseId; why: string } | null {
    if (!path) return null;
    const key = pathOnly(path);
    const facts = this.byPath.get(key);
    if (!facts) return null;
    // A client both refused and allowed there says nothing about the address.
    const other = [...facts.allowed].find((c) => !facts.refused.has(c));
    if (other !== undefined)
      return {
        cause: "ip-restriction",
        why: `; the same logs show ${other} allowed on ${key}: an address rule`,
      };
    if (facts.refused.size >= 2 && facts.allowed.size === 0)
      return {
        cause: "server-config",
        why: `; every client in the logs (${facts.refused.size}) is refused on ${key} and none allowed: a blanket deny`,
      };
    return null;
  }

  private byConfig(a: LogRecord): boolean {
    let d: ConfigDecision;
    try {
      d = (this.evaluate as ConfigEvaluator)({
        method: a.method ?? "GET",
        url: `http://localhost${a.path}`,
        client: a.client,
      });
    } catch {
      return false;
    }
    if (d.decision !== "deny" || (d.cause !== "ip-restriction" && d.cause !== "server-config")) return false;
    const by = d.decidedBy;
    const where = by ? `${by.directive} ${by.args.join(" ")} (${by.file}:${by.line})` : "the config";
    settle(a, d.cause, `; the config decides: ${where}`);
    return true;
  }
}

/** One allowed client that was never refused there: the address rule is shown. */
function settled(facts: PathFacts): boolean {
  for (const c of facts.allowed) if (!facts.refused.has(c)) return true;
  return false;
}

function settle(a: LogRecord, cause: CauseId, why: string): void {
  a.cause = cause;
  a.strength = STRENGTH.server;
  a.alsoCauses = undefined;
  a.message = clip(`${a.message}${why}`, 400);
}

/** Formats whose lines record only refusals or other events, never an allowed request. */
const NO_ALLOWED =
  /^(?:nginx-error|apache-error|lighttpd-error|modsec-audit|json-|waf-text|empty|binary|unknown)/;

function mayHoldAllowed(format: string): boolean {
  return !NO_ALLOWED.test(format) || format.startsWith("mixed:");
}

async function readUntilStopped(path: string, sink: LineSink): Promise<void> {
  const opened = await openLog(path);
  const splitter = new LineSplitter(sink);
  const chunks = opened.stream[Symbol.asyncIterator]();
  for (;;) {
    const next = await chunks.next();
    if (next.done) {
      splitter.end();
      break;
    }
    if (!splitter.push(typeof next.value === "string" ? Buffer.from(next.value) : next.value)) {
      await chunks.return?.(undefined);
      (opened.stream as { destroy?: () => void }).destroy?.();
      break;
    }
  }
}

interface Needle {
  bytes: Buffer;
  facts: PathFacts;
  key: string;
  next: number;
}

/**
 * A sink that decodes only the lines holding a noted path and keeps the allowed
 * clients; a path is dropped from the search once an allowed client settles it.
 * Reads the lines before line `until` only; replay() goes on from there with
 * what the first pass saw.
 */
class AllowedFinder implements LineSink {
  private needles: Needle[];
  private readonly dispatcher: LineDispatcher;
  private readonly prefilter = new LinePrefilter(false);
  private n = 0;
  /** A decoded line left the dispatcher inside an audit record. */
  dirty = false;

  constructor(
    file: string,
    byPath: Map<string, PathFacts>,
    zone: string | null,
    private readonly until = Number.MAX_SAFE_INTEGER,
  ) {
    this.needles = [...byPath.entries()]
      .filter(([, facts]) => !settled(facts))
      .map(([key, facts]) => ({ bytes: Buffer.from(key), facts, key, next: -1 }));
    this.dispatcher = new LineDispatcher(file, [], zone);
  }

  /** Every path already has an allowed client outside its refused ones. */
  get done(): boolean {
    return this.needles.length === 0;
  }

  /** The paths still searched. */
  get keys(): string[] {
    return this.needles.map((k) => k.key);
  }

  chunk(buf: Buffer): void {
    // Positions found in the previous chunk are stale.
    for (const k of this.needles) k.next = -1;
    this.prefilter.newChunk(buf);
  }

  line(buf: Buffer, start: number, end: number): boolean {
    const n = ++this.n;
    if (n >= this.until) return false;
    for (const k of this.needles) {
      // The next occurrence in the chunk, searched once and reused until passed (no rescans per line).
      if (k.next !== -2 && k.next < start) k.next = buf.indexOf(k.bytes, start);
      if (k.next === -1) k.next = -2;
      if (k.next < 0 || k.next + k.bytes.length > end) continue;
      // Refused access lines and error-log lines are no allowed request: not decoded.
      if (!mayBeAllowed(buf, start, end, this.prefilter)) return true;
      const { records } = this.dispatcher.feed({ n, text: buf.toString("utf8", start, end), cut: false });
      if (this.dispatcher.midRecord) this.dirty = true;
      for (const r of records) if (isAllowedAccess(r)) this.allow(pathOnly(r.path), r.client);
      this.settle();
      return !this.done;
    }
    return true;
  }

  /**
   * Takes the first pass's sightings of file `file` from index `from`, those
   * on line `until` or later, as line() would have found them; returns the index after the file's.
   */
  replay(sightings: AllowedSighting[], from: number, file: number, until: number): number {
    let i = from;
    while (i < sightings.length && (sightings[i] as AllowedSighting).file === file) {
      const line = (sightings[i] as AllowedSighting).line;
      let end = i + 1;
      while (end < sightings.length) {
        const s = sightings[end] as AllowedSighting;
        if (s.file !== file || s.line !== line) break;
        end++;
      }
      if (line >= until && !this.done && this.decodes(sightings, i, end)) {
        for (let k = i; k < end; k++) {
          const s = sightings[k] as AllowedSighting;
          this.allow(s.key, s.client);
        }
        this.settle();
      }
      i = end;
    }
    return i;
  }

  /** line() decodes the line of sightings[from, to): it holds the bytes of a path still searched. */
  private decodes(sightings: AllowedSighting[], from: number, to: number): boolean {
    for (let k = from; k < to; k++) {
      const s = sightings[k] as AllowedSighting;
      if (s.via === null ? this.byKey(s.key) !== null : s.via.some((key) => this.byKey(key) !== null))
        return true;
    }
    return false;
  }

  private allow(key: string, client: string): void {
    const facts = this.byKey(key);
    if (facts && facts.allowed.size < MAX_CLIENTS) facts.allowed.add(client);
  }

  private settle(): void {
    this.needles = this.needles.filter((x) => !settled(x.facts));
  }

  private byKey(key: string): PathFacts | null {
    for (const k of this.needles) if (k.key === key) return k.facts;
    return null;
  }
}
