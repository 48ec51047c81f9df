// -b with a file name: the cookies a Netscape cookie jar (or a file of
// Set-Cookie lines) holds for the request's URL, as curl picks them.

import { statSync } from "node:fs";
import { readInputFile } from "../read-input.js";

/**
 * The cookies a cookie file holds for this URL, as curl reads it: Netscape
 * lines (domain, subdomains flag, path, secure, expiry, name, value; a
 * "#HttpOnly_" prefix kept as a cookie) or "Set-Cookie:" header lines. A file
 * that is not there is skipped, as curl skips it.
 */
export function cookiesFromFile(path: string, url: string): string[] {
  try {
    if (!statSync(path).isFile()) return [];
  } catch {
    return [];
  }
  const text = readInputFile(path, "curl cookie file").toString("utf8");
  const target = new URL(url);
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const now = Date.now() / 1000;
  const found: Array<{ cookie: string; path: string; domain: string; order: number }> = [];
  for (const raw of text.split(/\r?\n/)) {
    const c = parseCookieLine(raw);
    if (!c) continue;
    const domain = c.domain.replace(/^\./, "");
    const domainOk =
      domain === "" ||
      host === domain ||
      ((c.subdomains || c.domain.startsWith(".")) && host.endsWith(`.${domain}`));
    const pathOk = target.pathname.startsWith(c.path) || c.path === "/";
    const live = c.expires === 0 || c.expires > now;
    if (domainOk && pathOk && live && (!c.secure || target.protocol === "https:")) {
      found.push({ cookie: `${c.name}=${c.value}`, path: c.path, domain, order: found.length });
    }
  }
  // curl sends longer paths first, then longer domains, then newer cookies.
  found.sort(
    (a, b) => b.path.length - a.path.length || b.domain.length - a.domain.length || b.order - a.order,
  );
  return found.map((f) => f.cookie);
}

interface JarCookie {
  domain: string;
  subdomains: boolean;
  path: string;
  secure: boolean;
  expires: number;
  name: string;
  value: string;
}

function parseCookieLine(raw: string): JarCookie | null {
  let line = raw.trim();
  const setCookie = /^set-cookie:\s*/i.exec(line);
  if (setCookie) {
    const [pair = "", ...attrs] = line.slice(setCookie[0].length).split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) return null;
    const attr = (n: string) =>
      attrs
        .map((a) => a.trim())
        .find((a) => a.toLowerCase().startsWith(`${n}=`))
        ?.slice(n.length + 1);
    return {
      domain: attr("domain") ?? "",
      subdomains: true,
      path: attr("path") ?? "/",
      secure: attrs.some((a) => a.trim().toLowerCase() === "secure"),
      expires: 0,
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
    };
  }
  if (line.startsWith("#HttpOnly_")) line = line.slice("#HttpOnly_".length);
  else if (line.startsWith("#") || line === "") return null;
  const f = raw.replace(/^\s*#HttpOnly_/, "").split("\t");
  if (f.length < 7) return null;
  return {
    domain: (f[0] ?? "").trim().toLowerCase(),
    subdomains: f[1]?.toUpperCase() === "TRUE",
    path: f[2] || "/",
    secure: f[3]?.toUpperCase() === "TRUE",
    expires: Number(f[4]) || 0,
    name: f[5] ?? "",
    value: (f[6] ?? "").replace(/\r$/, ""),
  };
}
