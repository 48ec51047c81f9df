// Test-only reader for fixtures/responses/*.http (status line, headers, blank
// line, body). The product code reads saved responses through src/request;
// this exists so fingerprint tests do not depend on that importer.

import { readFileSync } from "node:fs";
import type { Header, ResponseModel } from "../model.js";

function parseFixture(raw: Buffer): ResponseModel {
  const text = raw.toString("latin1");
  const split = /\r?\n\r?\n/.exec(text);
  const head = split ? text.slice(0, split.index) : text;
  const bodyStart = split ? split.index + split[0].length : text.length;
  const [statusLine = "", ...headerLines] = head.split(/\r?\n/);
  const status = /^(HTTP\/[\d.]+)\s+(\d{3})\s*(.*)$/.exec(statusLine);
  if (!status) throw new Error(`fixture has no status line: ${statusLine.slice(0, 60)}`);
  const headers: Header[] = [];
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`fixture header without a colon: ${line.slice(0, 60)}`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return {
    httpVersion: status[1] ?? "HTTP/1.1",
    status: Number(status[2]),
    statusText: status[3] ?? "",
    headers,
    body: raw.subarray(Buffer.byteLength(text.slice(0, bodyStart), "latin1")),
    bodyTruncated: false,
  };
}

export function readFixture(path: string): ResponseModel {
  return parseFixture(readFileSync(path));
}
