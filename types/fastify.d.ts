import type { FastifyInstance } from "fastify";
import type { ExplainOptions } from "./denial.js";

export { type CauseId, Denial, type DenialInit, type ExplainOptions } from "./denial.js";
export declare function explainDenials(options?: ExplainOptions): (app: FastifyInstance) => Promise<void>;
