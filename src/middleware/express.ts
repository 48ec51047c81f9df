// why403/express: `throw new Denial({...})` in a route (Express 5 passes thrown
// and rejected errors on; Express 4 needs next(denial)), then
// `app.use(explainDenials({ log }))` after the routes.
import type { ErrorRequestHandler } from "express";
import { DenialExplainer, type ExplainOptions, isDenial } from "./denial.js";

export { Denial, type DenialInit, type ExplainOptions } from "./denial.js";

export function explainDenials(options: ExplainOptions = {}): ErrorRequestHandler {
  const explainer = new DenialExplainer(options);
  return (err, req, res, next) => {
    if (!isDenial(err) || res.headersSent) {
      next(err);
      return;
    }
    const header = req.headers["x-request-id"];
    const answer = explainer.explain(err, {
      method: req.method,
      url: req.originalUrl ?? req.url,
      requestIdHeader: Array.isArray(header) ? header[0] : header,
    });
    res.status(answer.status);
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    res.end(answer.body);
  };
}
