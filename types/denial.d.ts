// Types of the explainable-denials subpaths (why403/express, why403/fastify, why403/hono).
// Kept by hand beside src/middleware/denial.ts; test/middleware.test.ts checks they agree.

export type CauseId =
  | "fs-permission"
  | "credentials-invalid"
  | "insufficient-permission"
  | "ip-restriction"
  | "csrf"
  | "waf"
  | "rate-limit"
  | "server-config"
  | "app-logic"
  | "cors"
  | "redirect-method-change"
  | "bot-protection";

export interface DenialInit {
  cause: CauseId;
  /** 1-80 letters, digits, ".", "_" or "-", e.g. "order-shipped". */
  reason: string;
  /** The application's own sentence for the person refused (answer and log). */
  detail?: string;
  /** 4xx status (default 403). */
  status?: number;
  title?: string;
  /** Seconds for a Retry-After header. */
  retryAfter?: number;
}

export declare class Denial extends Error {
  constructor(init: DenialInit);
  readonly cause: CauseId;
  readonly reason: string;
  readonly detail: string | null;
  readonly status: number;
  readonly title: string;
  readonly retryAfter: number | null;
}

export interface ExplainOptions {
  /** Decision log: a file path (appended), a writable stream, a function per line, or false. */
  log?: string | NodeJS.WritableStream | ((line: string) => void) | false;
  now?: () => Date;
}
