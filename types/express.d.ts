import type { ErrorRequestHandler } from "express";
import type { ExplainOptions } from "./denial.js";

export { type CauseId, Denial, type DenialInit, type ExplainOptions } from "./denial.js";
export declare function explainDenials(options?: ExplainOptions): ErrorRequestHandler;
