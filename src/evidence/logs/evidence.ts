// Server-side evidence for `why403 curl --server-logs`: find the run's own
// requests in the logs (by X-Request-Id, else by time, client and path) and
// turn what the server recorded into weighted Evidence.
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Evidence } from "../../model.js";
import { scanLogs } from "./analyze.js";
import { type Joined, toEntry, weightsOf } from "./join.js";
import { pathOnly } from "./record.js";
import type { LogEntry } from "./types.js";

export interface LogMatch {
  /** X-Request-Id values the run sent. */
  requestIds?: string[];
  /** Start of the run; lines before it (less a second of clock skew) are not ours. */
  since?: Date;
  /** End of the window (default: since + MATCH_WINDOW_MS, so a recording's later traffic is not taken as its own). */
  until?: Date;
  /** The address the server saw us as. */
  client?: string;
  /** URL paths the run requested. */
  paths?: string[];
  /**
   * Take a line that names no URL path (Apache's AH01630 names the mapped file,
   * not the URL) on time and client alone. Right for a live run's short window,
   * too loose for a recording's ten minutes.
   */
  acceptPathless?: boolean;
}

/** Default length of the time window after `since` when `until` is not given. */
export const MATCH_WINDOW_MS = 10 * 60_000;
/** Most matched requests turned into evidence, whatever the logs hold. */
const MAX_MATCHES = 100;

function matches(j: Joined, m: LogMatch, ids: Set<string>): boolean {
  const a = j.rec;
  if (ids.size > 0 && a.ids.some((id) => ids.has(id))) return true;
  // A line that carries a different id of ours cannot be ours; one without ids may be.
  if (ids.size > 0 && a.requestId) return false;
  if (!m.since) return false;
  const until = m.until?.getTime() ?? m.since.getTime() + MATCH_WINDOW_MS;
  if (!a.time || a.time.getTime() < m.since.getTime() - 1000 || a.time.getTime() > until + 1000) return false;
  if (m.client && a.client && a.client !== m.client) return false;
  if (m.paths && m.paths.length > 0) {
    // Apache names the file, not the URL (AH01630 "…/htdocs/private/"): accept it when it ends like a probed path.
    if (!a.path)
      return (
        m.acceptPathless === true ||
        m.paths.some((q) => pathOnly(q).length > 1 && a.message.includes(pathOnly(q)))
      );
    const p = pathOnly(a.path);
    if (!m.paths.some((q) => pathOnly(q) === p)) return false;
  }
  return true;
}

export async function evidenceFromLogs(
  paths: string[],
  match: LogMatch,
): Promise<{ evidence: Evidence[]; entries: LogEntry[] }> {
  const ids = new Set(match.requestIds ?? []);
  const evidence: Evidence[] = [];
  const entries: LogEntry[] = [];
  await scanLogs(paths, {}, (j) => {
    if (entries.length >= MAX_MATCHES || !matches(j, match, ids)) return;
    const entry = toEntry(j);
    entries.push(entry);
    evidence.push(toEvidence(j, entry));
  });
  return { evidence, entries };
}

function toEvidence(j: Joined, e: LogEntry): Evidence {
  const where = `${basename(e.file)}:${e.line}`;
  const request = [e.method, e.path].filter(Boolean).join(" ") || "the request";
  const status = e.status !== null ? ` (${e.status})` : "";
  // `logFile`, not `file`: verdict templates read `file` as the path on disk that refused.
  const data: Record<string, unknown> = { logFile: e.file, line: e.line, cause: e.cause };
  if (e.method) data.method = e.method;
  if (e.path) data.requestPath = e.path;
  if (e.status !== null) data.status = e.status;
  if (e.client) data.client = e.client;
  const fsPath = e.cause === "fs-permission" ? diskPathIn(e.message) : null;
  if (fsPath) data.fsPath = fsPath;
  if (e.rules?.length) data.ruleIds = e.rules;
  if (e.rule) data.rule = e.rule;
  if (e.product) data.product = e.product;
  if (e.requestId) data.requestId = e.requestId;
  return {
    source: where,
    fact: `Server log ${where} on ${request}${status}: ${e.message}`,
    weights: weightsOf(j.rec),
    data,
  };
}

/** The file-system path an fs-permission message names ("may not read /srv/x (13: …)"). */
function diskPathIn(message: string): string | null {
  return /(?:^|[\s'"])(\/[^\s'"()]+)/.exec(message)?.[1] ?? null;
}

/**
 * Waits until a line containing `marker` appears in the file (servers may
 * flush their logs late). Reads only what was appended since the call, plus
 * a tail of what was there. Resolves with the line, or null on timeout.
 */
export async function waitForLogMarker(
  path: string,
  marker: string,
  timeoutMs: number,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  const TAIL = 256 * 1024;
  let offset: number | null = null;
  let carry = "";
  for (;;) {
    const size = await stat(path).then(
      (s) => s.size,
      () => null,
    );
    if (size !== null) {
      if (offset === null || size < offset) offset = Math.max(0, size - TAIL);
      if (size > offset) {
        const fh = await open(path, "r");
        try {
          const length = Math.min(size - offset, 4 * 1024 * 1024);
          const buf = Buffer.alloc(length);
          const { bytesRead } = await fh.read(buf, 0, length, offset);
          offset += bytesRead;
          const text = carry + buf.subarray(0, bytesRead).toString("utf8");
          const lines = text.split("\n");
          carry = (lines.pop() ?? "").slice(-64 * 1024);
          const hit = lines.find((l) => l.includes(marker));
          if (hit !== undefined) return hit;
          if (carry.includes(marker)) return carry;
        } finally {
          await fh.close();
        }
      }
    }
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now()))));
  }
}
