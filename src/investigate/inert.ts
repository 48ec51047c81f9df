// Decoy inertness: may a non-safe request be sent to a decoy path?
//
// A decoy (/.well-known/why403/<token>) is only useful if no application code
// runs there. RFC 8615 reserves the prefix, but many hosts route *every* path
// into an application: front controllers (`try_files $uri /index.php?$args`,
// Apache FallbackResource), catch-all routes (Express `app.all('*')`), SPA
// fallbacks proxied to an app, reverse proxies that pass everything upstream.
// Such an app may act on a POST whatever its path: admin-ajax.php reads
// `action` from the body, a GraphQL endpoint reads the operation from the body,
// a query-routed controller reads `?action=`.
//
// So before a decoy carries a non-safe request, safe requests (GET and OPTIONS
// only) observe the exact decoy URL with the request's headers, first without
// the query string, then with it when the request has one. The decoy counts as
// inert for a shape only when every observation was answered by the web server
// or proxy *itself*: its own canned error page (a body marker of a web-server
// or proxy product, e.g. nginx's `<hr><center>nginx</center>` footer or
// Apache's "was not found on this server"), with no application product seen
// in the answer. A canned 404 to GET shows no route served the path; a canned
// answer to OPTIONS shows that a method other than GET/HEAD is not passed to an
// application either (an app behind the server answers OPTIONS itself: Express
// and Flask list the route's methods, PHP front controllers run their script).
//
// What this cannot see, written down so nobody mistakes it for a proof:
// - routing by method alone (`if ($request_method = POST) { proxy_pass … }`,
//   `<LimitExcept GET>` sending only writes upstream): a safe method never
//   takes that branch;
// - error interception (nginx proxy_intercept_errors, Apache
//   ProxyErrorOverride) that replaces an application's own 404 *and* 405/501
//   with the server's pages, while a POST would be accepted by the app;
// - routing on the absence of a query field or header (a content-search step
//   that drops one): a non-monotone rule no real config we know uses.
// Given those limits the test is deliberately narrow: any answer that is not
// recognisably the server's own page (a 200, a redirect, an app's 404, an
// unknown product, a WAF refusal, no answer) means "not shown inert", and the
// decoy is then may-execute like the original path.
//
// A firewall that checks the body its Content-Type announces can refuse a
// bodiless observation with its own 400 page (ModSecurity v3 fails to parse an
// empty XML body). That answer says nothing about routing, so the observation
// is made again without Content-Type (routing on the type alone is then one more
// limit of the test).
//
// Method override: observations never carry override headers or a `_method`
// query field (a GET with `X-HTTP-Method-Override: DELETE` is a DELETE to an app
// that honours it). A query that names `_method` is never observed nor carried
// to a decoy. Override fields only matter to an application, and an answer
// written by the server itself shows none is there for that shape.

import type { DecoyInertness } from "../experiments/contract.js";
import { loadCatalogue } from "../fingerprint/catalogue.js";
import type { FingerprintResult } from "../fingerprint/match.js";
import { queryOverridesMethod, withoutMethodOverride } from "../http/method-override.js";
import type { Layer, RequestModel, ResponseModel } from "../model.js";

/** Layers that answer by themselves in front of an application. */
const SERVER_LAYERS: ReadonlySet<Layer> = new Set(["web-server", "proxy"]);
/** Statuses of a server's canned "no such resource" / "method not handled here" pages. */
const GET_STATUSES: ReadonlySet<number> = new Set([404, 410]);
const OPTIONS_STATUSES: ReadonlySet<number> = new Set([404, 405, 501]);

/** The server's own "bad request" page: a check refused the request before anything routed it. */
const BAD_REQUEST: ReadonlySet<number> = new Set([400]);

/** Request headers that describe a body; a bodiless observation drops them (Content-Type stays: servers may route on it). */
const BODY_FRAMING = new Set(["content-length", "transfer-encoding", "content-encoding", "expect"]);

/** Ids of body markers per product: the canned pages a product writes itself. */
let bodyMarkerIds: Map<string, Set<string>> | undefined;
function bodyMarkersOf(product: string): Set<string> {
  if (!bodyMarkerIds) {
    bodyMarkerIds = new Map();
    for (const sig of loadCatalogue()) {
      const ids = new Set<string>();
      sig.markers.forEach((m, i) => {
        if (m.kind === "body") ids.add(m.id ?? `body#${i}`);
      });
      bodyMarkerIds.set(sig.product, ids);
    }
  }
  return bodyMarkerIds.get(product) ?? new Set();
}

/**
 * Why this answer was written by the web server or proxy itself (its canned
 * page for the status), or null when it may come from anything else. Pure.
 */
export function serverOwnAnswer(
  method: "GET" | "OPTIONS",
  res: ResponseModel | null,
  fp: FingerprintResult | null,
  statuses: ReadonlySet<number> = method === "GET" ? GET_STATUSES : OPTIONS_STATUSES,
): string | null {
  if (!res || !fp) return null;
  // Any application product in the answer (a header, a page) means an app took part.
  if (fp.matches.some((m) => m.layer === "application")) return null;
  const { product, layer } = fp.responder;
  if (!product || !SERVER_LAYERS.has(layer)) return null;
  if (method === "OPTIONS" && statuses !== BAD_REQUEST && coreOptionsAnswer(res))
    return `OPTIONS → ${res.status}, ${product}'s own bodiless Allow answer`;
  if (!statuses.has(res.status)) return null;
  const match = fp.matches.find((m) => m.product === product);
  const pages = bodyMarkersOf(product);
  const page = match?.markers.find((id) => pages.has(id));
  if (!page) return null;
  return `${method} → ${res.status}, ${product}'s own page (${page})`;
}

/** Headers a web server's own bodiless OPTIONS answer carries; anything else was added by someone else. */
const CORE_OPTIONS_HEADERS = new Set([
  "date",
  "server",
  "allow",
  "content-length",
  "connection",
  "keep-alive",
]);

/**
 * A web server answering OPTIONS itself (Apache's core handler on a path it maps
 * to no file: 200, an Allow list, no body, nothing but the generic headers). An
 * application answering OPTIONS adds something of its own (a body listing the
 * methods, an ETag, X-Powered-By, CORS headers, cookies), so this stays narrow.
 */
function coreOptionsAnswer(res: ResponseModel): boolean {
  if (res.status !== 200 || res.body.length > 0) return false;
  const names = res.headers.map(([n]) => n.toLowerCase());
  return (
    names.includes("allow") && names.includes("server") && names.every((n) => CORE_OPTIONS_HEADERS.has(n))
  );
}

/** Headers kept when the request's own headers get the observation refused: what routing needs. */
const ROUTING_HEADERS = new Set(["host", "accept", "content-type"]);

/**
 * The bodiless safe request that observes `url` in the shape of `target`; with
 * `minimal`, only the headers routing needs (Host, Accept, Content-Type); with
 * `untyped`, without Content-Type.
 */
export function observation(
  target: RequestModel,
  method: "GET" | "OPTIONS",
  url: string,
  { minimal = false, untyped = false }: { minimal?: boolean; untyped?: boolean } = {},
): RequestModel {
  const bare = withoutMethodOverride({ ...target, url });
  const keep = (name: string) =>
    !BODY_FRAMING.has(name) &&
    (!minimal || ROUTING_HEADERS.has(name)) &&
    (!untyped || name !== "content-type");
  return {
    method,
    url: bare.url,
    headers: bare.headers.filter(([n]) => keep(n.toLowerCase())),
    body: null,
    options: { ...target.options, explicitMethod: true, followRedirects: false },
  };
}

export interface InertShape {
  /** Origin and path of the decoy. */
  path: string;
  /** The query-less shape was shown inert. */
  bare: boolean;
  /** The query shown inert (its fields), or null. */
  query: Array<[string, string]> | null;
}

export type { DecoyInertness };

/** What the prover needs from the prober: one recorded safe probe, and whether it repeated the refusal. */
export type ObserveFn = (
  req: RequestModel,
  purpose: string,
) => Promise<{
  response: ResponseModel | null;
  fingerprint: FingerprintResult | null;
  record: { finding: string };
  sameRefusal: boolean;
}>;

function keyOf(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * Observes the decoy `bareUrl` (no query) and, when the target has a query,
 * the same path with it. Sends 1 to 6 safe requests through `observe` (GET and
 * OPTIONS, each possibly again with minimal headers, then both with the query);
 * stops at the first answer that is not the server's own. `budget` is how many
 * it may send. Pure apart from `observe`.
 */
export async function proveDecoyInert(
  target: RequestModel,
  bareUrl: string,
  observe: ObserveFn,
  budget: number,
): Promise<{ result: DecoyInertness; shape: InertShape | null }> {
  const bare = new URL(bareUrl);
  bare.search = "";
  const withQuery = new URL(bare.href);
  withQuery.search = new URL(target.url).search;
  const notInert = (because: string) => ({
    result: { inert: false as const, url: bare.href, because },
    shape: null,
  });
  if (budget < 2) return notInert("not enough probe budget left to observe the decoy first");
  const reasons: string[] = [];
  let spent = 0;
  for (const method of ["GET", "OPTIONS"] as const) {
    let out = await observe(observation(target, method, bare.href), `is the decoy inert? ${method} on it`);
    spent++;
    let why = serverOwnAnswer(method, out.response, out.fingerprint);
    const needed = method === "GET" ? 3 : 1;
    const typed = target.headers.some(([n]) => n.toLowerCase() === "content-type");
    const headers = { minimal: false, untyped: false };
    // Two looks at most: without Content-Type after a body check's 400, with minimal
    // headers after a refusal like your request's.
    for (let look = 0; look < 2 && !why && budget - spent >= needed; look++) {
      const badRequest = serverOwnAnswer(method, out.response, out.fingerprint, BAD_REQUEST);
      if (typed && !headers.untyped && badRequest) {
        out.record.finding = `${badRequest}: a check on the body the Content-Type announces refused a bodiless request; looking again without Content-Type`;
        headers.untyped = true;
      } else if (out.sameRefusal && !headers.minimal) {
        // Refused the same way as your request: a host-wide rule keyed on its headers (a
        // scanner User-Agent, a cookie) answered before anything routed it, which says
        // nothing about the path. Look again with only the headers routing needs. (A
        // server that routes on the dropped headers is one of the limits written above.)
        out.record.finding = `${out.response?.status}: refused like your request (a rule on its headers); looking again with minimal headers`;
        headers.minimal = true;
      } else break;
      const which = headers.minimal
        ? `only Host, Accept${headers.untyped ? "" : " and Content-Type"}`
        : "every header but Content-Type";
      out = await observe(
        observation(target, method, bare.href, headers),
        `is the decoy inert? ${method} on it with ${which}`,
      );
      spent++;
      why = serverOwnAnswer(method, out.response, out.fingerprint);
    }
    if (!why) {
      out.record.finding = `${out.response?.status ?? "no answer"}: not the web server's own page, so application code may answer on this path`;
      return notInert(
        `${method} on the decoy path ${bare.pathname} got ${out.response?.status ?? "no answer"}, not the web server's own page: application code may answer there (a catch-all route or front controller), so a ${target.method} there could execute`,
      );
    }
    out.record.finding = `${why}: no application answers here`;
    reasons.push(why);
  }
  const shape: InertShape = { path: keyOf(bare), bare: true, query: null };
  const hasQuery = withQuery.search.length > 1;
  const inertBare = (note: string) => ({
    result: {
      inert: true as const,
      url: bare.href,
      withQuery: false,
      because: `${reasons.join("; ")}${note}`,
    },
    shape,
  });
  if (!hasQuery) return inertBare("");
  if (queryOverridesMethod(withQuery.href))
    return inertBare("; the query names a method override, so it is not carried to the decoy");
  if (budget - spent < 2)
    return inertBare("; the query string is not carried (no budget left to observe that shape)");
  for (const method of ["GET", "OPTIONS"] as const) {
    const out = await observe(
      observation(target, method, withQuery.href),
      `is the decoy inert with your query string? ${method} on it`,
    );
    const why = serverOwnAnswer(method, out.response, out.fingerprint);
    if (!why) {
      out.record.finding = `${out.response?.status ?? "no answer"}: with the query string the server's own page is not shown; the query is not carried to the decoy`;
      return inertBare("; with the query string it was not shown inert, so the query is not carried");
    }
    out.record.finding = `${why}: no application answers here with this query`;
    reasons.push(`${why} (with the query)`);
  }
  shape.query = [...withQuery.searchParams];
  return {
    result: { inert: true, url: withQuery.href, withQuery: true, because: reasons.join("; ") },
    shape,
  };
}

/**
 * Whether `url` lies within a shape shown inert: the same decoy path, and no
 * query (the bare shape) or a query whose fields all appear in the observed one
 * (a content-search step that drops fields; see the limits above).
 */
export function coveredByInertShape(url: string, shapes: readonly InertShape[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const shape = shapes.find((s) => s.path === keyOf(u));
  if (!shape) return false;
  const fields = [...u.searchParams];
  if (fields.length === 0 && u.search.length <= 1) return shape.bare;
  if (!shape.query || queryOverridesMethod(u.href)) return false;
  const left = shape.query.map(([k, v]) => `${k}=${v}`);
  for (const [k, v] of fields) {
    const i = left.indexOf(`${k}=${v}`);
    if (i === -1) return false;
    left.splice(i, 1);
  }
  return true;
}
