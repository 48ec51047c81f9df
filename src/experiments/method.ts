// method: GET, HEAD and OPTIONS on the original URL (all safe). GET passing
// where the POST is refused points at method rules, CSRF or body content; GET
// refused the same way points at path, address or identity rules. OPTIONS
// also reads the CORS preflight answer and the Allow header.

import { isSafeMethod } from "../http/types.js";
import { REFUSAL_STATUSES } from "../model.js";
import { asSafe, describeStatus, hasHeader, setHeader } from "./_requests.js";
import { headerValue } from "./compare.js";
import type { Experiment, ProbeContext } from "./contract.js";

function csv(value: string | null): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
}

async function preflight(ctx: ProbeContext): Promise<void> {
  const { state } = ctx;
  const method = state.target.method.toUpperCase();
  const origin = headerValue(state.target, "origin");
  let req = asSafe(state.target, "OPTIONS");
  if (origin) {
    req = { ...req, headers: setHeader(req.headers, "Access-Control-Request-Method", method) };
  }
  const out = await ctx.probe(
    req,
    origin ? "CORS preflight (OPTIONS) with your Origin" : "OPTIONS: which methods are allowed",
    "safe-method",
  );
  const res = out.response;
  state.facts.safeMethods = {
    ...state.facts.safeMethods,
    OPTIONS: { status: res?.status ?? null, sameRefusal: out.sameRefusal },
  };
  if (!res) return;
  const allow = csv(headerValue(res, "allow"));
  const notes: string[] = [`${res.status}`];
  // GET passes but a bodiless OPTIONS is refused the same way as the request: the
  // server refuses methods, not content or tokens (nginx limit_except, <LimitExcept>).
  const get = state.facts.safeMethods?.GET;
  if (
    !origin &&
    out.sameRefusal &&
    get &&
    get.status !== null &&
    !get.sameRefusal &&
    !REFUSAL_STATUSES.has(get.status)
  ) {
    ctx.addEvidence({
      source: `probe #${out.n}`,
      fact: `GET on the URL passes (${get.status}) while a bodiless OPTIONS is refused the same way as the ${method}: the server refuses by method, whatever the content or tokens.`,
      weights: { "server-config": 3, csrf: -1.5, waf: -1, "app-logic": -0.5 },
    });
  }
  if (allow.length > 0) {
    notes.push(`Allow: ${allow.join(", ")}`);
    if (!allow.includes(method) && !isSafeMethod(method)) {
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `OPTIONS on the URL lists the allowed methods as ${allow.join(", ")}, without ${method}.`,
        weights: { "server-config": 2, "app-logic": 0.5 },
        data: { allow },
      });
    }
  }
  if (origin) {
    const acao = headerValue(res, "access-control-allow-origin");
    const acam = csv(headerValue(res, "access-control-allow-methods"));
    notes.push(acao ? `Access-Control-Allow-Origin: ${acao}` : "no Access-Control-Allow-Origin");
    if (acao && (acao === "*" || acao === origin)) {
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `The CORS preflight for Origin ${origin} is answered with Access-Control-Allow-Origin: ${acao}, so the server's CORS policy accepts this origin.`,
        weights: { cors: -2 },
      });
    } else if (res.status < 500) {
      ctx.addEvidence({
        source: `probe #${out.n}`,
        fact: `The CORS preflight for Origin ${origin} gets ${res.status} without a matching Access-Control-Allow-Origin${acao ? ` (it names ${acao})` : ""}: the server does not accept this origin for ${method}${acam.length ? ` (allowed methods: ${acam.join(", ")})` : ""}.`,
        weights: { cors: out.sameRefusal || res.status === 403 ? 2.5 : 1.5, csrf: 0.5 },
      });
    }
  }
  out.record.finding = notes.join("; ");
}

/**
 * HEAD is GET without the body, and servers answer both alike: when the GET probe was
 * refused and HEAD not (or the reverse), the same HEAD is sent again right away (the
 * most recent probe: an answer that flips on every request shows up). Identical
 * requests answered differently stop the run as intermittent (the prober's consistency
 * check); a stable answer leaves the split standing.
 */
async function confirmGetHeadSplit(ctx: ProbeContext): Promise<void> {
  const { GET, HEAD } = ctx.state.facts.safeMethods ?? {};
  if (!GET || !HEAD || GET.status === null || HEAD.status === null) return;
  if (GET.sameRefusal === HEAD.sameRefusal || ctx.remaining() <= 0) return;
  const again = await ctx.probe(
    asSafe(ctx.state.target, "HEAD"),
    "the same HEAD once more (HEAD and GET disagreed)",
    "safe-method",
  );
  again.record.finding =
    again.sameRefusal === HEAD.sameRefusal ? "answered as before" : "answered differently";
}

export const method: Experiment = {
  id: "method",
  safety: "safe-method",
  cost: 3,
  appliesTo: () => true,
  priority: (state) => (isSafeMethod(state.target.method) ? 3 : 9),
  async run(ctx) {
    const { state } = ctx;
    const m = state.target.method.toUpperCase();
    if (m !== "GET") {
      const out = await ctx.probe(asSafe(state.target, "GET"), `GET instead of ${m}`, "safe-method");
      state.facts.safeMethods = {
        ...state.facts.safeMethods,
        GET: { status: out.response?.status ?? null, sameRefusal: out.sameRefusal },
      };
      if (out.sameRefusal) {
        out.record.finding = `refused the same way (${out.response!.status}): the refusal does not depend on the method or body`;
        ctx.addEvidence({
          source: `probe #${out.n}`,
          fact: `A GET to the same URL is refused the same way (${out.response!.status}), so the refusal does not depend on the ${m} method or its body: it follows the path, the client's address or identity.`,
          weights: {
            csrf: -2.5,
            "redirect-method-change": -1,
            "ip-restriction": 1,
            "insufficient-permission": 0.5,
            "credentials-invalid": 0.5,
            "server-config": 0.5,
          },
        });
      } else if (!out.inconclusive && out.response) {
        out.record.finding = `answered ${out.response.status}, not refused: the refusal is specific to ${m} (method rule, CSRF or body content)`;
        ctx.addEvidence({
          source: `probe #${out.n}`,
          fact: `A GET to the same URL is not refused (${out.response.status}) while the ${m} is, so the refusal depends on the method or what the ${m} carries: a method rule, a CSRF check, or the body's content.`,
          weights: {
            "ip-restriction": -3,
            csrf: 1,
            waf: 0.5,
            "server-config": 0.5,
            "insufficient-permission": 0.3,
            "app-logic": 0.5,
            "fs-permission": -1,
          },
        });
      }
    }
    if (ctx.remaining() > 0) {
      const out = await ctx.probe(asSafe(state.target, "HEAD"), "HEAD on the same URL", "safe-method");
      state.facts.safeMethods = {
        ...state.facts.safeMethods,
        HEAD: { status: out.response?.status ?? null, sameRefusal: out.sameRefusal },
      };
      out.record.finding = out.sameRefusal
        ? `refused the same way (${describeStatus(out.response?.status ?? null)})`
        : `${describeStatus(out.response?.status ?? null)}: not the refusal`;
      await confirmGetHeadSplit(ctx);
    }
    if (ctx.remaining() > 0 && (!isSafeMethod(m) || hasHeader(state.target, "origin"))) await preflight(ctx);
  },
};
