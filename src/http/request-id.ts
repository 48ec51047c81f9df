// Every probe carries X-Request-Id: why403-<runId>-<n>, so the server's logs
// can be joined to the probes (and --server-logs can find them).

import { randomBytes } from "node:crypto";
import type { RequestModel } from "../model.js";

const REQUEST_ID_HEADER = "X-Request-Id";

export function newRunId(): string {
  return randomBytes(4).toString("hex");
}

export function requestIdFor(runId: string, n: number): string {
  return `why403-${runId}-${n}`;
}

/** The request with our id header; any X-Request-Id already there is replaced so log lines join to one probe. */
export function withRequestId(req: RequestModel, id: string): RequestModel {
  const lower = REQUEST_ID_HEADER.toLowerCase();
  const headers = req.headers.filter(([n]) => n.toLowerCase() !== lower);
  return { ...req, headers: [...headers, [REQUEST_ID_HEADER, id]] };
}
