// Redirects on the way to the refusal: a POST that a 301/302/303 turned into a
// GET, or whose body was dropped, reaches a handler that was never meant for it.
import { type Evidence, type Exchange, REFUSAL_STATUSES } from "../../model.js";
import { redactUrl } from "../../redact.js";
import { headerValue } from "./_http.js";

function describeHop(hop: Exchange): string {
  const location = headerValue(hop.response.headers, "location");
  return `${hop.request.method} ${redactUrl(hop.request.url)} → ${hop.response.status}${location ? ` Location: ${redactUrl(location)}` : ""}`;
}

/** What kind of URL change a redirect made, in words ("http→https", "added a trailing slash"). */
export function redirectKind(from: string, to: string): string[] {
  const kinds: string[] = [];
  try {
    const a = new URL(from);
    const b = new URL(to, from);
    if (a.protocol === "http:" && b.protocol === "https:") kinds.push("http→https");
    if (a.host !== b.host) kinds.push(`to another host (${b.host})`);
    if (b.pathname === `${a.pathname}/`) kinds.push("added a trailing slash");
    else if (a.pathname === `${b.pathname}/`) kinds.push("removed the trailing slash");
    else if (a.pathname !== b.pathname) kinds.push("to another path");
  } catch {
    // unparsable URL: no kind
  }
  return kinds;
}

/** An Allow header that lists methods with a body and neither GET nor HEAD. */
function allowsOnlyBodyMethods(allow: string | null | undefined): boolean {
  const methods = (allow ?? "")
    .toUpperCase()
    .split(/\s*,\s*/)
    .filter(Boolean);
  return (
    methods.length > 0 &&
    !methods.includes("GET") &&
    methods.some((m) => ["POST", "PUT", "PATCH", "DELETE"].includes(m))
  );
}

export function redirectEvidence(ex: Exchange): Evidence[] {
  if (ex.redirects.length === 0) return [];
  const chain = [...ex.redirects, ex];
  const first = chain[0]!;
  const origMethod = first.request.method.toUpperCase();
  const finalMethod = ex.request.method.toUpperCase();
  const hadBody = (first.request.body?.length ?? 0) > 0;
  const finalBody = (ex.request.body?.length ?? 0) > 0;
  const out: Evidence[] = [];
  const hops = ex.redirects.map(describeHop).join("; ");
  const kinds = [
    ...new Set(
      ex.redirects.flatMap((h) =>
        redirectKind(h.request.url, headerValue(h.response.headers, "location") ?? h.request.url),
      ),
    ),
  ];
  const kindText = kinds.length ? ` (${kinds.join(", ")})` : "";
  const changer = ex.redirects.find(
    (h, i) => (chain[i + 1]?.request.method.toUpperCase() ?? finalMethod) !== h.request.method.toUpperCase(),
  );
  const data = {
    from: origMethod,
    to: finalMethod,
    status: changer?.response.status ?? ex.redirects[0]?.response.status,
    // Without the recorded URL, the last Location header is the best name for the final URL.
    location: /^https?:/i.test(ex.request.url)
      ? redactUrl(ex.request.url)
      : (headerValue(ex.redirects.at(-1)!.response.headers, "location") ?? undefined),
    originalUrl: redactUrl(first.request.url),
    kinds,
  };
  if (origMethod !== "GET" && origMethod !== "HEAD" && finalMethod !== origMethod) {
    out.push({
      source: "response",
      fact: `The ${origMethod} was redirected${kindText} and arrived as ${finalMethod}: ${changer?.response.status ?? "a"} redirects let clients switch to GET (only 307/308 keep the method). Hops: ${hops}.`,
      weights: { "redirect-method-change": 5 },
      data,
    });
    // What refused was the GET the redirect made, not the user's request: a rule on the
    // final URL (a directory without index, a method limit) is a consequence, and its
    // fix (an index, autoindex) would not make the POST work.
    if (REFUSAL_STATUSES.has(ex.response.status)) {
      out.push({
        source: "response",
        fact: `The refusal (${ex.response.status}) answered the ${finalMethod} that the redirect produced: the ${origMethod} itself never reached a handler at ${data.location ?? "the final URL"}. Send the ${origMethod} to the final URL directly (or make the redirect a 307/308).`,
        weights: { "redirect-method-change": 3, "server-config": -2 },
        data,
      });
    }
    // The final answer allows the very method the redirect dropped: decisive.
    const allow = (headerValue(ex.response.headers, "allow") ?? "").toUpperCase().split(/\s*,\s*/);
    if (ex.response.status === 405 && allow.includes(origMethod)) {
      out.push({
        source: "response",
        fact: `The final URL answers 405 to the ${finalMethod} and its Allow header lists ${origMethod}: the endpoint would take the original ${origMethod}; the redirect changed it.`,
        weights: { "redirect-method-change": 4, "server-config": -2 },
        data,
      });
    }
  } else if (hadBody && !finalBody) {
    out.push({
      source: "response",
      fact: `The ${origMethod} was redirected${kindText} and its body was dropped on the way. Hops: ${hops}.`,
      weights: { "redirect-method-change": 4 },
      data,
    });
  } else if (
    !/^https?:/i.test(first.request.url) &&
    ex.response.status === 405 &&
    ex.redirects.some((h) => [301, 302, 303].includes(h.response.status)) &&
    allowsOnlyBodyMethods(headerValue(ex.response.headers, "allow"))
  ) {
    // A saved answer without its request: the final 405 takes only methods with a body,
    // after a 301/302/303 that clients follow with GET.
    out.push({
      source: "response",
      fact: `After a ${ex.redirects[0]!.response.status} redirect the final URL answers 405 and allows only ${headerValue(ex.response.headers, "allow")}: a client following the redirect switched to GET (curl -L without -X, browsers), so the original was most likely a POST the redirect changed. Hops: ${hops}.`,
      weights: { "redirect-method-change": 4, "server-config": -1 },
      data,
    });
  } else {
    out.push({
      source: "response",
      fact: `The request was redirected${kindText} before being refused, keeping its method ${finalMethod}. Hops: ${hops}.`,
      weights: { "redirect-method-change": origMethod === "GET" ? 0 : -1 },
      data,
    });
  }
  return out;
}
