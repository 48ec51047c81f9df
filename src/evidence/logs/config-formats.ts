// Custom access formats declared in server configs: nginx `log_format NAME '…' '…';`
// and Apache `LogFormat "…" NAME`. Only the given file is read (no includes).
import { readFileSync, statSync } from "node:fs";
import { InputError } from "../../errors.js";
import { MAX_INPUT_FILE_BYTES } from "../../limits.js";

function readConfig(path: string): string {
  try {
    if (statSync(path).size > MAX_INPUT_FILE_BYTES) throw new InputError(`config file too large: ${path}`);
    return readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === "ENOENT" ? `config file not found: ${path}` : `cannot read config file ${path}: ${code}`,
    );
  }
}

/** nginx: `log_format name [escape=…] 'part' "part" …;` — parts are concatenated. */
export function nginxLogFormats(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const stripped = text.replace(/(^|\s)#[^\n]*/g, "$1");
  const re =
    /\blog_format\s+(\w+)\s+((?:escape=\w+\s+)?)((?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^;'"\s]+|\s+)*);/g;
  for (const m of stripped.matchAll(re)) {
    const parts = (m[3] as string).match(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s'"]+/g) ?? [];
    out[m[1] as string] = parts
      .map((p) => (p.startsWith("'") || p.startsWith('"') ? unquoteEscapes(p.slice(1, -1)) : p))
      .join("");
  }
  return out;
}

/** The escapes nginx and Apache accept in quoted config strings. */
function unquoteEscapes(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c));
}

/** Apache: `LogFormat "%h %l …" name`. */
export function apacheLogFormats(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\s*LogFormat\s+"((?:[^"\\]|\\.)*)"\s+(\S+)\s*$/gim)) {
    out[m[2] as string] = unquoteEscapes(m[1] as string);
  }
  return out;
}

/** The custom formats of the given configs, for LogsOptions.logFormats. */
export function logFormatsFromConfig(files: { nginx?: string; apache?: string }): Record<string, string> {
  return {
    ...(files.nginx ? nginxLogFormats(readConfig(files.nginx)) : {}),
    ...(files.apache ? apacheLogFormats(readConfig(files.apache)) : {}),
  };
}
