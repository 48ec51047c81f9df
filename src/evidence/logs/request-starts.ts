// An application that logs a request in two lines, one when it comes in (method,
// URL, client: Fastify's "incoming request") and one with the answer (status
// only: "request completed"), ties them by a request id: the refusal's record
// takes what the first line named.
import type { LogRecord } from "./types.js";

/** What a request's first line named. */
export interface RequestStart {
  method: string | null;
  path: string | null;
  client: string | null;
}

/** Request ids remembered at most per file: a later line with the answer comes within moments. */
const MAX_STARTS = 4096;

export class RequestStarts {
  private readonly byId = new Map<string, RequestStart>();

  /** A line that named a request and no answer yet. */
  note(id: string, start: RequestStart): void {
    if (this.byId.size >= MAX_STARTS) {
      const oldest = this.byId.keys().next().value as string;
      this.byId.delete(oldest);
    }
    this.byId.set(id, start);
  }

  /** A refusal's record: what its request's first line named, where the record names nothing. */
  fill(rec: LogRecord): void {
    if (rec.requestId === null || this.byId.size === 0) return;
    const start = this.byId.get(rec.requestId);
    if (start === undefined) return;
    this.byId.delete(rec.requestId);
    rec.method ??= start.method;
    rec.path ??= start.path;
    rec.client ??= start.client;
  }
}
