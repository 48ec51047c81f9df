// why403/hono: `app.onError(explainDenials({ log }))`, then `throw new Denial({...})`
// in any handler. Other errors get `fallback` (default: an HTTPException's own
// answer, else a bare 500 like Hono's default handler).
import type { Context, ErrorHandler } from "hono";
import { DenialExplainer, type ExplainOptions, isDenial } from "./denial.js";

export { Denial, type DenialInit, type ExplainOptions } from "./denial.js";

export interface HonoExplainOptions extends ExplainOptions {
  fallback?: (err: Error, c: Context) => Response | Promise<Response>;
}

export function explainDenials(options: HonoExplainOptions = {}): ErrorHandler {
  const explainer = new DenialExplainer(options);
  const fallback = options.fallback ?? defaultAnswer;
  return (err, c) => {
    if (!isDenial(err)) return fallback(err, c);
    const answer = explainer.explain(err, {
      method: c.req.method,
      url: c.req.path,
      requestIdHeader: c.req.header("x-request-id"),
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}

function defaultAnswer(err: Error): Response {
  const maybe = err as Error & { getResponse?: () => Response };
  if (typeof maybe.getResponse === "function") return maybe.getResponse();
  return new Response("Internal Server Error", { status: 500 });
}
