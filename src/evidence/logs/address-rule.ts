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
// are looked up in a second pass over the files, only for the refused paths
// (stdin cannot be read twice: there only the config decides).
import type { CauseId } from "../../model.js";
import type { ConfigDecision, ConfigRequest } from "../config-decision.js";
import { LineDispatcher } from "./dispatch.js";
import type { Joined } from "./join.js";
import { type LineSink, LineSplitter, openLog } from "./lines.js";
import { ACCESS_REFUSED, LinePrefilter } from "./prefilter.js";
import { clip, pathOnly } from "./record.js";
import { type LogFileSummary, type LogRecord, STRENGTH } from "./types.js";

/** Most distinct paths looked up in the second pass (each is a byte search per line). */
const MAX_PATHS = 32;
/** Most clients remembered per path. */
const MAX_CLIENTS = 64;

/** The record's cause is one of "address rule" and "blanket deny", the other its alternative. */
export function isAddressOrBlanket(a: LogRecord): boolean {
  const also = a.alsoCauses ?? {};
  return (
    (a.cause === "ip-restriction" && also["server-config"] !== undefined) ||
    (a.cause === "server-config" && also["ip-restriction"] !== undefined)
  );
}

export type ConfigEvaluator = (request: ConfigRequest) => ConfigDecision;

interface PathFacts {
  refused: Set<string>;
  allowed: Set<string>;
}

export class AddressRuleEvidence {
  private readonly byPath = new Map<string, PathFacts>();

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
   * Reads the files that can hold allowed requests (access-type formats, not
   * stdin) again for the noted paths; stops early once every path has one.
   */
  async gatherAllowed(files: LogFileSummary[]): Promise<void> {
    if (this.byPath.size === 0) return;
    for (const summary of files) {
      if (summary.path === "-" || !mayHoldAllowed(summary.format)) continue;
      const sink = new AllowedFinder(summary.path, this.byPath);
      if (sink.done) return;
      const opened = await openLog(summary.path);
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

/** False for a line that certainly records no allowed request (a refused access line, an nginx/Apache error line). */
function mayBeAllowed(buf: Buffer, start: number, end: number, prefilter: LinePrefilter): boolean {
  const b0 = buf[start];
  if (b0 === 0x5b /* [ */) return false;
  if (end - start > 5 && buf[start + 4] === 0x2f /* / */ && b0 !== undefined && b0 >= 0x30 && b0 <= 0x39)
    return false;
  return prefilter.accessCheck(buf, start, end) !== ACCESS_REFUSED;
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

/**
 * A sink that decodes only the lines holding a noted path and keeps the allowed
 * clients; a path is dropped from the search once an allowed client settles it.
 */
class AllowedFinder implements LineSink {
  private needles: Array<{ bytes: Buffer; facts: PathFacts; key: string; next: number }>;
  private readonly dispatcher: LineDispatcher;
  private readonly prefilter = new LinePrefilter(false);
  private n = 0;

  constructor(file: string, byPath: Map<string, PathFacts>) {
    this.needles = [...byPath.entries()]
      .filter(([, facts]) => !settled(facts))
      .map(([key, facts]) => ({ bytes: Buffer.from(key), facts, key, next: -1 }));
    this.dispatcher = new LineDispatcher(file, []);
  }

  /** Every path already has an allowed client outside its refused ones. */
  get done(): boolean {
    return this.needles.length === 0;
  }

  chunk(buf: Buffer): void {
    // Positions found in the previous chunk are stale.
    for (const k of this.needles) k.next = -1;
    this.prefilter.newChunk(buf);
  }

  line(buf: Buffer, start: number, end: number): boolean {
    const n = ++this.n;
    for (const k of this.needles) {
      // The next occurrence in the chunk, searched once and reused until passed (no rescans per line).
      if (k.next !== -2 && k.next < start) k.next = buf.indexOf(k.bytes, start);
      if (k.next === -1) k.next = -2;
      if (k.next < 0 || k.next + k.bytes.length > end) continue;
      // Refused access lines and error-log lines are no allowed request: not decoded.
      if (!mayBeAllowed(buf, start, end, this.prefilter)) return true;
      const { records } = this.dispatcher.feed({ n, text: buf.toString("utf8", start, end), cut: false });
      for (const r of records) {
        if (r.kind !== "access" || r.status === null || r.status >= 400 || !r.client || !r.path) continue;
        const facts = this.byKey(pathOnly(r.path));
        if (facts && facts.allowed.size < MAX_CLIENTS) facts.allowed.add(r.client);
      }
      this.needles = this.needles.filter((x) => !settled(x.facts));
      return !this.done;
    }
    return true;
  }

  private byKey(key: string): PathFacts | null {
    for (const k of this.needles) if (k.key === key) return k.facts;
    return null;
  }
}
