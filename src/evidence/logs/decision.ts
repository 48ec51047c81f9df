// why403.decision/v1 lines, written by the why403/express|fastify|hono
// middleware: the application states the cause and reason itself, so the cause
// is taken as written (strongest: nothing else knows better).
import { CAUSE_IDS, type CauseId } from "../../model.js";
import { addId, clip, makeRecord } from "./record.js";
import { parseAnyTime } from "./time.js";
import { type LogRecord, STRENGTH } from "./types.js";

export const DECISION_FORMAT = "why403-decision";

export function isDecisionLine(doc: Record<string, unknown>): boolean {
  return doc.schema === "why403.decision/v1";
}

export function parseDecisionLine(doc: Record<string, unknown>, file: string, n: number): LogRecord | null {
  const status = Number(doc.status);
  const rec = makeRecord({ file, line: n, format: DECISION_FORMAT, kind: "app", product: "app" });
  rec.time = parseAnyTime(doc.time);
  rec.status = Number.isInteger(status) && status >= 400 && status <= 499 ? status : null;
  rec.method = text(doc.method, 32);
  rec.path = text(doc.path, 2048);
  const id = text(doc.requestId, 200);
  if (id) {
    addId(rec, id);
    rec.requestId = id;
  }
  const cause = text(doc.cause, 40);
  const reason = text(doc.reason, 80);
  const detail = text(doc.detail, 500);
  rec.denied = true;
  if (cause && (CAUSE_IDS as readonly string[]).includes(cause)) {
    rec.cause = cause as CauseId;
    rec.strength = STRENGTH.server;
  }
  if (reason) rec.reason = reason;
  rec.message = clip(
    `the application refused${reason ? ` (${reason})` : ""}${detail ? `: ${detail}` : ""}`,
    500,
  );
  return rec;
}

function text(v: unknown, max: number): string | null {
  return typeof v === "string" && v !== "" ? v.slice(0, max) : null;
}
