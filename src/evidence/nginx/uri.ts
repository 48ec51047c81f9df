// nginx's view of a request path: percent-decoded, slashes merged, `.` and
// `..` resolved (ngx_http_parse_complex_uri). A `..` above the root is a 400.

export function normalizeUri(rawPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath.replace(/%(?![0-9a-fA-F]{2})/g, "%25"));
  } catch {
    // Invalid UTF-8 after decoding: nginx works on bytes, keep latin1.
    decoded = rawPath.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) =>
      String.fromCharCode(Number.parseInt(h, 16)),
    );
  }
  if (!decoded.startsWith("/")) return null;
  const out: string[] = [];
  const segments = decoded.split("/");
  // segments[0] is "" (leading slash); the last one may be "" (trailing slash).
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] as string;
    const last = i === segments.length - 1;
    if (seg === "" && !last) continue;
    if (seg === ".") {
      if (last) out.push("");
      continue;
    }
    if (seg === "..") {
      if (out.length === 0) return null;
      out.pop();
      if (last) out.push("");
      continue;
    }
    out.push(seg);
  }
  return `/${out.join("/")}`;
}

/** Splits a request URL into what nginx sees. Throws on a URL that is not absolute http(s). */
export interface RequestTarget {
  scheme: "http" | "https";
  host: string;
  port: number;
  /** The raw path as sent (before decoding). */
  rawPath: string;
  query: string;
}

export function splitRequestUrl(url: string): RequestTarget | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return null;
  const scheme = u.protocol === "https:" ? "https" : "http";
  const port = u.port ? Number(u.port) : scheme === "https" ? 443 : 80;
  // URL normalises dot segments itself; take the path from the original text to keep them.
  const afterHost = url.replace(/^[a-z]+:\/\/[^/?#]*/i, "");
  const pathAndQuery = afterHost.split("#")[0] ?? "";
  const q = pathAndQuery.indexOf("?");
  const rawPath = (q >= 0 ? pathAndQuery.slice(0, q) : pathAndQuery) || "/";
  const query = q >= 0 ? pathAndQuery.slice(q + 1) : "";
  return { scheme, host: u.hostname.replace(/^\[|\]$/g, "").toLowerCase(), port, rawPath, query };
}
