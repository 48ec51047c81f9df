// `why403 compare`: the user's request moved to other environments. Scheme,
// host and port come from each --with base; path, query, method, headers and
// body stay. Credentials go only to the origin the user's own line targets,
// unless the user says otherwise: a production token never reaches another host
// by accident.
import { UsageError } from "../errors.js";
import type { Header, RequestModel } from "../model.js";
import { isSecretHeader, isStrongSecretName, quoteArgument } from "../redact.js";

export interface Environment {
  /** scheme://host[:port], as the table and JSON name it. */
  base: string;
  /** True for the origin the user's request targets. */
  own: boolean;
  request: RequestModel;
  /** What was held back from this environment (header names, "URL userinfo", query names). */
  withheld: string[];
}

/** The origin (scheme://host[:port]) of a --with value; a path other than "/" is refused. */
export function parseBase(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `--with needs a base URL such as https://staging.example, got ${quoteArgument(value)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--with needs an http or https URL, got ${quoteArgument(value)}`);
  if (url.pathname !== "/" || url.search || url.hash)
    throw new UsageError(
      `--with takes only scheme, host and port (the request's path and query are kept), got ${quoteArgument(value)}`,
    );
  if (url.username || url.password)
    throw new UsageError("--with may not carry credentials in the URL: the request's own are used");
  return url.origin;
}

/**
 * The request's own origin first, then each --with base. `carry` sends the
 * request's credentials to every environment; otherwise they go only where the
 * user's line was aimed.
 */
export function environmentsFor(request: RequestModel, bases: string[], carry: boolean): Environment[] {
  const ownUrl = new URL(request.url);
  const own: Environment = { base: ownUrl.origin, own: true, request, withheld: [] };
  const out = [own];
  for (const raw of bases) {
    const base = parseBase(raw);
    if (out.some((e) => e.base === base))
      throw new UsageError(`--with ${quoteArgument(raw)} names an environment already compared`);
    out.push(moveTo(request, base, carry));
  }
  if (out.length < 2) throw new UsageError("compare needs at least one --with <base URL>");
  return out;
}

function moveTo(request: RequestModel, base: string, carry: boolean): Environment {
  const url = new URL(request.url);
  const target = new URL(base);
  url.protocol = target.protocol;
  url.host = target.host;
  const withheld: string[] = [];
  let headers: Header[] = request.headers;
  if (!carry) {
    if (url.username || url.password) {
      url.username = "";
      url.password = "";
      withheld.push("URL userinfo");
    }
    for (const name of [...url.searchParams.keys()]) {
      if (!isStrongSecretName(name)) continue;
      url.searchParams.delete(name);
      withheld.push(`query ${name}`);
    }
    headers = headers.filter(([name]) => {
      // Proxy credentials belong to the proxy (-x), which every environment shares.
      if (name.toLowerCase() === "proxy-authorization" || !isSecretHeader(name)) return true;
      withheld.push(name);
      return false;
    });
  }
  // A Host header named the user's own server; the base names this one.
  headers = headers.filter(([name]) => name.toLowerCase() !== "host");
  return {
    base,
    own: false,
    request: { ...request, url: url.toString(), headers },
    withheld: [...new Set(withheld)],
  };
}
