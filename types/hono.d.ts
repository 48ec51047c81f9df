import type { Context, ErrorHandler } from "hono";
import type { ExplainOptions } from "./denial.js";

export { type CauseId, Denial, type DenialInit, type ExplainOptions } from "./denial.js";
export interface HonoExplainOptions extends ExplainOptions {
  fallback?: (err: Error, c: Context) => Response | Promise<Response>;
}
export declare function explainDenials(options?: HonoExplainOptions): ErrorHandler;
