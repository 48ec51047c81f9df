// why403/fastify: `await app.register(explainDenials({ log }))`, then
// `throw new Denial({...})` in any route. The plugin sets the root error
// handler (it skips Fastify's encapsulation); other errors go on to Fastify's
// own handler.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DenialExplainer, type ExplainOptions, isDenial } from "./denial.js";

export { Denial, type DenialInit, type ExplainOptions } from "./denial.js";

type Plugin = (app: FastifyInstance) => Promise<void>;

export function explainDenials(options: ExplainOptions = {}): Plugin {
  const explainer = new DenialExplainer(options);
  const plugin: Plugin = async (app) => {
    app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      // Rethrown: the parent (Fastify's default) handler answers as it would have.
      if (!isDenial(error)) throw error;
      const header = request.headers["x-request-id"];
      const answer = explainer.explain(error, {
        method: request.method,
        url: request.url,
        requestIdHeader: Array.isArray(header) ? header[0] : header,
      });
      reply.code(answer.status).headers(answer.headers);
      // A Buffer: Fastify would append "; charset=utf-8" to a string body's type.
      return reply.send(Buffer.from(answer.body));
    });
  };
  // What fastify-plugin does: the handler applies to the whole app, not a child context.
  Object.defineProperty(plugin, Symbol.for("skip-override"), { value: true });
  return plugin;
}
