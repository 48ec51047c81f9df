// A RequestModel back to a copy-pastable bash curl line.

import type { RequestModel } from "../../model.js";

function isPrintable(s: string): boolean {
  return !/[\u0000-\u001f\u007f]/.test(s);
}

/** POSIX shell quoting: plain single quotes when possible, else $'…'. */
export function shellQuote(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_\-.,:/@%+=]+$/.test(s)) return s;
  if (isPrintable(s)) return `'${s.replace(/'/g, `'\\''`)}'`;
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === "'") out += "\\'";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `$'${out}'`;
}

function bodyArgument(body: Buffer): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(body);
  if (Buffer.from(text, "utf8").equals(body)) return shellQuote(text);
  // Not UTF-8: every byte above 0x7f as \xHH.
  let out = "";
  for (const b of body) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x27) out += "\\'";
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, "0")}`;
    else out += String.fromCharCode(b);
  }
  return `$'${out}'`;
}

/**
 * Renders a request as a copy-pastable bash curl command, one option per
 * line. Callers redact secrets in headers before calling.
 */
export function formatCurl(req: RequestModel): string {
  const lines: string[] = [`curl ${shellQuote(req.url)}`];
  const method = req.method.toUpperCase();
  const hasBody = req.body !== null;
  if (method === "HEAD" && !hasBody && req.options.headOnly) lines.push("-I");
  else if (!((method === "GET" && !hasBody) || (method === "POST" && hasBody))) {
    lines.push(`-X ${shellQuote(req.method)}`);
  }
  for (const [name, value] of req.headers) {
    lines.push(value === "" ? `-H ${shellQuote(`${name};`)}` : `-H ${shellQuote(`${name}: ${value}`)}`);
  }
  if (req.body !== null) lines.push(`--data-raw ${bodyArgument(req.body)}`);
  const o = req.options;
  if (o.compressed) lines.push("--compressed");
  if (o.insecure) lines.push("-k");
  if (o.followRedirects) lines.push("-L");
  if (o.proxy) lines.push(`-x ${shellQuote(o.proxy)}`);
  if (o.timeoutMs !== undefined) lines.push(`--max-time ${o.timeoutMs / 1000}`);
  return lines.join(" \\\n  ");
}
