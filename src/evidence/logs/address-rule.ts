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
import { clip, pathOnly } from "./record.js";
import { type LogRecord, STRENGTH } from "./types.js";

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

  /** Reads the files again for allowed requests on the noted paths. */
  async gatherAllowed(files: string[]): Promise<void> {
    if (this.byPath.size === 0) return;
    for (const file of files) {
      if (file === "-") continue;
      const sink = new AllowedFinder(file, this.byPath);
      const opened = await openLog(file);
      const splitter = new LineSplitter(sink);
      for await (const chunk of opened.stream) {
        if (!splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk)) break;
      }
      splitter.end();
    }
  }

  /** Settles one held-back denial from the config or the log evidence (in place). */
  decide(j: Joined): void {
    const a = j.rec;
    if (this.evaluate && a.path && this.byConfig(a)) return;
    if (!a.path) return;
    const facts = this.byPath.get(pathOnly(a.path));
    if (!facts) return;
    // A client both refused and allowed there says nothing about the address.
    const other = [...facts.allowed].find((c) => !facts.refused.has(c));
    if (other !== undefined) {
      settle(
        a,
        "ip-restriction",
        `; the same logs show ${other} allowed on ${pathOnly(a.path)}: an address rule`,
      );
    } else if (facts.refused.size >= 2 && facts.allowed.size === 0) {
      settle(
        a,
        "server-config",
        `; every client in the logs (${facts.refused.size}) is refused on ${pathOnly(a.path)} and none allowed: a blanket deny`,
      );
    }
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

function settle(a: LogRecord, cause: CauseId, why: string): void {
  a.cause = cause;
  a.strength = STRENGTH.server;
  a.alsoCauses = undefined;
  a.message = clip(`${a.message}${why}`, 400);
}

/** A sink that decodes only the lines holding a noted path, and keeps the allowed clients. */
class AllowedFinder implements LineSink {
  private readonly needles: Array<{ bytes: Buffer; facts: PathFacts; key: string; next: number }>;
  private readonly dispatcher: LineDispatcher;
  private n = 0;

  constructor(file: string, byPath: Map<string, PathFacts>) {
    this.needles = [...byPath.entries()].map(([key, facts]) => ({
      bytes: Buffer.from(key),
      facts,
      key,
      next: -1,
    }));
    this.dispatcher = new LineDispatcher(file, []);
  }

  chunk(): void {
    // Positions found in the previous chunk are stale.
    for (const k of this.needles) k.next = -1;
  }

  line(buf: Buffer, start: number, end: number): boolean {
    const n = ++this.n;
    for (const k of this.needles) {
      // The next occurrence in the chunk, searched once and reused until passed (no rescans per line).
      if (k.next !== -2 && k.next < start) k.next = buf.indexOf(k.bytes, start);
      if (k.next === -1) k.next = -2;
      if (k.next < 0 || k.next + k.bytes.length > end) continue;
      const { records } = this.dispatcher.feed({ n, text: buf.toString("utf8", start, end), cut: false });
      for (const r of records) {
        if (r.kind !== "access" || r.status === null || r.status >= 400 || !r.client || !r.path) continue;
        const facts = this.byKey(pathOnly(r.path));
        if (facts && facts.allowed.size < MAX_CLIENTS) facts.allowed.add(r.client);
      }
      return true;
    }
    return true;
  }

  private byKey(key: string): PathFacts | null {
    for (const k of this.needles) if (k.key === key) return k.facts;
    return null;
  }
}
