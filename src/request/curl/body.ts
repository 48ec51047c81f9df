// The body encoders: -d/--data(-ascii, -raw, -binary), --data-urlencode,
// --json, -F/--form(-string), and the body curl builds from them (pieces
// joined with "&", or a multipart form).

import { statSync } from "node:fs";
import { basename } from "node:path";
import { InputError } from "../../errors.js";
import { readInputFile } from "../read-input.js";
import {
  type DataKind,
  type FormPart,
  firstWord,
  type Handler,
  type ParseState,
  setHttpReq,
} from "./state.js";

export function addData(kind: DataKind): Handler {
  return (st, value) => {
    st.data.push({ kind, value: dataValue(kind, value) });
  };
}

export function readFileArg(path: string, what: string): Buffer {
  if (path === "-") throw new InputError(`reading a ${what} from stdin (-) is not supported; name a file`);
  return readInputFile(path, what);
}

/**
 * A data file as curl reads it: one that is not there (or not readable)
 * makes an empty piece, as curl warns "Couldn't read data from file … this
 * makes an empty POST" and sends it anyway.
 */
function readDataFile(path: string): Buffer | null {
  if (path === "-")
    throw new InputError("curl data from stdin (@-) is not supported; put the data on the line");
  try {
    statSync(path);
  } catch {
    return null;
  }
  return readFileArg(path, "curl data file");
}

function dataValue(kind: DataKind, value: string): Buffer {
  if (kind === "raw") return Buffer.from(value, "utf8");
  if (kind === "urlencode") return Buffer.from(urlencodeData(value), "utf8");
  if (value.startsWith("@")) {
    const buf = readDataFile(value.slice(1));
    if (buf === null) return Buffer.alloc(0);
    // -d/--data strips line breaks from files; --data-binary and --json keep them.
    if (kind === "ascii") return Buffer.from(buf.toString("latin1").replace(/[\r\n]/g, ""), "latin1");
    return buf;
  }
  return Buffer.from(value, "utf8");
}

/** curl's escaping for --data-urlencode: everything but unreserved characters; a space is "+". */
function curlEscape(s: string | Buffer): string {
  const bytes = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  let out = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (b === 0x20) out += "+";
    else out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** --data-urlencode and --url-query: `content`, `=content`, `name=content`, `@file`, `name@file`. */
export function urlencodeData(value: string): string {
  const eq = value.indexOf("=");
  const at = value.indexOf("@");
  if (eq >= 0 && (at < 0 || eq < at)) {
    const name = value.slice(0, eq);
    const content = curlEscape(value.slice(eq + 1));
    return name === "" ? content : `${name}=${content}`;
  }
  if (at >= 0) {
    const name = value.slice(0, at);
    const file = readDataFile(value.slice(at + 1));
    if (file === null) return "";
    const content = curlEscape(file);
    return name === "" ? content : `${name}=${content}`;
  }
  return curlEscape(value);
}

export function addForm(literal: boolean): Handler {
  return (st, value) => {
    setHttpReq(st, "MIMEPOST");
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new InputError(`invalid curl form field starting "${firstWord(value)}" (expected name=value)`);
    }
    const name = value.slice(0, eq);
    const content = value.slice(eq + 1);
    if (literal) {
      st.form.push({ name, value: Buffer.from(content, "utf8") });
      return;
    }
    if (content.startsWith("@") || content.startsWith("<")) {
      const [rawPath, ...mods] = content.slice(1).split(";");
      const path = unquote(rawPath ?? "");
      const part: FormPart = { name, value: readFileArg(path, "curl form file") };
      if (content.startsWith("@")) part.filename = basename(path);
      for (const mod of mods) {
        const m = /^\s*(type|filename)=(.*)$/.exec(mod);
        if (m?.[1] === "type") part.type = m[2]!.trim();
        else if (m?.[1] === "filename") part.filename = unquote(m[2]!.trim());
      }
      if (part.filename !== undefined && part.type === undefined) part.type = guessType(part.filename);
      st.form.push(part);
      return;
    }
    const typed = /^(.*);type=([\w.+-]+\/[\w.+-]+)$/s.exec(content);
    if (typed) st.form.push({ name, value: Buffer.from(typed[1]!, "utf8"), type: typed[2]! });
    else st.form.push({ name, value: Buffer.from(unquote(content), "utf8") });
  };
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, "$1") : s;
}

const TYPES_BY_EXTENSION: Record<string, string> = {
  txt: "text/plain",
  html: "text/html",
  htm: "text/html",
  json: "application/json",
  xml: "application/xml",
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  svg: "image/svg+xml",
  csv: "text/csv",
};

function guessType(filename: string): string {
  const ext = /\.([^.]+)$/.exec(filename)?.[1]?.toLowerCase();
  return (ext && TYPES_BY_EXTENSION[ext]) || "application/octet-stream";
}

export function buildBody(st: ParseState): Buffer | null {
  if (st.data.length === 0) return null;
  const parts: Buffer[] = [];
  st.data.forEach((d, idx) => {
    // curl joins -d pieces with '&'; --json pieces are concatenated as they are.
    if (idx > 0 && d.kind !== "json") parts.push(Buffer.from("&"));
    parts.push(d.value);
  });
  return Buffer.concat(parts);
}

export function multipartBody(parts: FormPart[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  const quote = (s: string) => s.replace(/["\r\n\\]/g, (c) => (c === '"' ? "%22" : c === "\\" ? "\\\\" : ""));
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quote(p.name)}"`;
    if (p.filename !== undefined) head += `; filename="${quote(p.filename)}"`;
    head += "\r\n";
    if (p.type !== undefined) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, "utf8"), p.value, Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
