// Apache httpd config parser: directives and sections as plain data, each with
// its file and 1-based line, Include/IncludeOptional expanded in place and
// <IfModule>/<IfDefine> decided while reading, as httpd itself does.

import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { InputError } from "../../errors.js";
import { MAX_INCLUDE_DEPTH, MAX_INPUT_FILE_BYTES } from "../../limits.js";

export interface ApacheDirective {
  kind: "directive";
  name: string;
  args: string[];
  /** The argument text as written (httpd hands some directives their raw line, e.g. Require expr). */
  raw?: string;
  file: string;
  line: number;
}

export interface ApacheSection {
  kind: "section";
  /** As written, without the angle bracket ("Directory", "LocationMatch"). */
  name: string;
  args: string[];
  file: string;
  line: number;
  children: ApacheNode[];
}

export type ApacheNode = ApacheDirective | ApacheSection;

export interface ApacheConfig {
  file: string;
  serverRoot: string;
  nodes: ApacheNode[];
  /** Module names seen in LoadModule lines plus httpd's built-ins ("rewrite_module", "mod_rewrite.c"). */
  modules: string[];
  /** True when the config loads its own modules, so <IfModule> can be decided. */
  loadsModules: boolean;
  defines: string[];
  /** Every file read, the main one first. */
  files: string[];
}

export interface ParseOptions {
  serverRoot?: string;
  /** Names given with -D. */
  defines?: string[];
}

/** Modules compiled into Debian's apache2 binary (`apache2 -l`). */
const BUILT_IN_MODULES = [
  "core.c",
  "mod_so.c",
  "mod_watchdog.c",
  "http_core.c",
  "mod_log_config.c",
  "mod_logio.c",
  "mod_version.c",
  "mod_unixd.c",
  "core_module",
  "so_module",
  "watchdog_module",
  "http_module",
  "log_config_module",
  "logio_module",
  "version_module",
  "unixd_module",
];

interface ParseState {
  serverRoot: string;
  modules: Set<string>;
  loadsModules: boolean;
  defines: Map<string, string>;
  files: string[];
}

export function parseApacheConfig(path: string, options: ParseOptions = {}): ApacheConfig {
  const file = resolve(path);
  const state: ParseState = {
    serverRoot: options.serverRoot ? resolve(options.serverRoot) : dirname(file),
    modules: new Set(BUILT_IN_MODULES),
    loadsModules: false,
    defines: new Map((options.defines ?? []).map((d) => [d, ""])),
    files: [],
  };
  return configOf(file, state, parseFile(file, state, []));
}

/** The parsed config: the nodes, and what the parse learned of the server on the way. */
function configOf(file: string, state: ParseState, nodes: ApacheNode[]): ApacheConfig {
  return {
    file,
    serverRoot: state.serverRoot,
    nodes,
    modules: [...state.modules],
    loadsModules: state.loadsModules,
    defines: [...state.defines.keys()],
    files: state.files,
  };
}

/** Parses a .htaccess file (no includes, <IfModule> taken as true). Null when it does not exist. */
export function parseHtaccess(path: string): ApacheNode[] | null {
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) return null;
    text = readTextFile(path, null);
  } catch (e) {
    if (e instanceof InputError) throw e;
    return null;
  }
  const state: ParseState = {
    serverRoot: dirname(path),
    modules: new Set(BUILT_IN_MODULES),
    loadsModules: false,
    defines: new Map(),
    files: [],
  };
  return parseText(text, path, state, [path], false);
}

/** Parses config text that is not on disk (tests, snippets). */
export function parseApacheText(text: string, file = "<text>", options: ParseOptions = {}): ApacheConfig {
  const state: ParseState = {
    serverRoot: options.serverRoot ? resolve(options.serverRoot) : process.cwd(),
    modules: new Set(BUILT_IN_MODULES),
    loadsModules: false,
    defines: new Map((options.defines ?? []).map((d) => [d, ""])),
    files: [file],
  };
  return configOf(file, state, parseText(text, file, state, [file], true));
}

function readTextFile(file: string, from: string | null): string {
  const where = from ? ` (included from ${from})` : "";
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch {
    throw new InputError(`cannot read Apache config ${file}${where}: no such file`);
  }
  if (!st.isFile()) throw new InputError(`Apache config ${file}${where} is not a regular text file`);
  if (st.size > MAX_INPUT_FILE_BYTES)
    throw new InputError(`Apache config ${file}${where} is larger than ${MAX_INPUT_FILE_BYTES} bytes`);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new InputError(
      `cannot read Apache config ${file}${where}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  if (buf.includes(0)) throw new InputError(`Apache config ${file}${where} is binary, not a text config`);
  return buf.toString("utf8");
}

function parseFile(
  file: string,
  state: ParseState,
  chain: string[],
  from: string | null = null,
): ApacheNode[] {
  let real = file;
  try {
    real = realpathSync(file);
  } catch {
    // readTextFile reports the missing file
  }
  if (chain.includes(real)) {
    const names = [...chain.slice(chain.indexOf(real)), real].join(" -> ");
    throw new InputError(`Apache config include loop: ${names}`);
  }
  if (chain.length >= MAX_INCLUDE_DEPTH) {
    throw new InputError(`Apache config includes nest deeper than ${MAX_INCLUDE_DEPTH} at ${from ?? file}`);
  }
  const text = readTextFile(file, from);
  state.files.push(file);
  return parseText(text, file, state, [...chain, real], true);
}

interface LogicalLine {
  text: string;
  line: number;
}

/** Joins backslash continuations and drops comments and blank lines. */
function logicalLines(text: string): LogicalLine[] {
  const raw = text.split(/\r?\n/);
  const out: LogicalLine[] = [];
  let i = 0;
  while (i < raw.length) {
    const start = i + 1;
    let acc = raw[i] ?? "";
    while (/\\\s*$/.test(acc) && i + 1 < raw.length) {
      acc = `${acc.replace(/\\\s*$/, "")} ${raw[i + 1] ?? ""}`;
      i++;
    }
    i++;
    const trimmed = acc.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    out.push({ text: trimmed, line: start });
  }
  return out;
}

/** Splits arguments like httpd's ap_getword_conf: whitespace, "double" or 'single' quotes. */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    const q = text[i];
    if (q === '"' || q === "'") {
      let word = "";
      i++;
      while (i < text.length && text[i] !== q) {
        if (text[i] === "\\" && text[i + 1] === q) {
          word += q;
          i += 2;
          continue;
        }
        word += text[i];
        i++;
      }
      i++;
      args.push(word);
    } else {
      let word = "";
      while (i < text.length && !/\s/.test(text[i] as string)) {
        word += text[i];
        i++;
      }
      args.push(word);
    }
  }
  return args;
}

function substituteVars(text: string, state: ParseState): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) => {
    const v = state.defines.get(name);
    if (v !== undefined && v !== "") return v;
    return process.env[name] ?? m;
  });
}

interface OpenSection {
  section: ApacheSection;
  /** False when this <IfModule>/<IfDefine> was decided false: its children are dropped. */
  active: boolean;
  /** Conditional sections are flattened into their parent. */
  conditional: boolean;
}

/** One file's text being parsed: the sections open so far, innermost last. */
interface TextParse {
  file: string;
  state: ParseState;
  chain: string[];
  allowIncludes: boolean;
  stack: OpenSection[];
}

function parseText(
  text: string,
  file: string,
  state: ParseState,
  chain: string[],
  allowIncludes: boolean,
): ApacheNode[] {
  const root: ApacheSection = { kind: "section", name: "", args: [], file, line: 0, children: [] };
  const p: TextParse = {
    file,
    state,
    chain,
    allowIncludes,
    stack: [{ section: root, active: true, conditional: false }],
  };
  for (const { text: lineText, line } of logicalLines(text)) {
    if (lineText.startsWith("</")) closeSection(p, lineText, line);
    else if (lineText.startsWith("<")) openSection(p, lineText, line);
    else directiveLine(p, lineText, line);
  }
  if (p.stack.length > 1) {
    const open = top(p).section;
    throw new InputError(`${file}:${open.line}: <${open.name}> is not closed`);
  }
  return root.children;
}

const top = (p: TextParse): OpenSection => p.stack[p.stack.length - 1] as OpenSection;

/** `</Name>`: the section closes; a conditional one hands its children to its parent when true. */
function closeSection(p: TextParse, lineText: string, line: number): void {
  const here = `${p.file}:${line}`;
  const name = lineText.slice(2).replace(/>\s*$/, "").trim();
  const open = top(p);
  if (p.stack.length === 1) throw new InputError(`${here}: </${name}> without a matching <${name}>`);
  if (open.section.name.toLowerCase() !== name.toLowerCase()) {
    throw new InputError(
      `${here}: </${name}> closes <${open.section.name}> opened at line ${open.section.line}`,
    );
  }
  p.stack.pop();
  const parent = top(p);
  if (open.conditional) {
    if (open.active && parent.active) parent.section.children.push(...open.section.children);
  } else if (parent.active) {
    parent.section.children.push(open.section);
  }
}

const ALWAYS_TRUE_CONDITIONALS = ["ifversion", "ifdirective", "ifsection", "iffile"];

/** `<Name args>`: a section opens; <IfModule>/<IfDefine> are decided now, other <If…> taken as true. */
function openSection(p: TextParse, lineText: string, line: number): void {
  const end = lineText.lastIndexOf(">");
  if (end < 0)
    throw new InputError(`${p.file}:${line}: section ${lineText.split(/\s/)[0]} is missing its closing '>'`);
  const inner = lineText.slice(1, end).trim();
  const name = inner.split(/\s+/)[0] ?? "";
  const args = splitArgs(substituteVars(inner.slice(name.length), p.state));
  const section: ApacheSection = { kind: "section", name, args, file: p.file, line, children: [] };
  const lname = name.toLowerCase();
  if (lname === "ifmodule") {
    p.stack.push({ section, active: ifModule(args[0] ?? "", p.state), conditional: true });
  } else if (lname === "ifdefine") {
    p.stack.push({ section, active: ifDefine(args[0] ?? "", p.state), conditional: true });
  } else {
    p.stack.push({ section, active: true, conditional: ALWAYS_TRUE_CONDITIONALS.includes(lname) });
  }
}

/** A directive: Include is followed, ServerRoot/Define/LoadModule update the parse state, all are kept. */
function directiveLine(p: TextParse, lineText: string, line: number): void {
  const { file, state } = p;
  const here = `${file}:${line}`;
  const name = lineText.split(/\s+/)[0] ?? "";
  const raw = substituteVars(lineText.slice(name.length), state).trim();
  const args = splitArgs(raw);
  if (!p.stack.every((s) => s.active)) return;
  const lname = name.toLowerCase();
  if (lname === "include" || lname === "includeoptional") {
    if (!p.allowIncludes) throw new InputError(`${here}: ${name} is not allowed in .htaccess`);
    const target = args[0];
    if (!target) throw new InputError(`${here}: ${name} needs a file name`);
    for (const f of expandInclude(target, state.serverRoot, lname === "includeoptional", here)) {
      top(p).section.children.push(...parseFile(f, state, p.chain, here));
    }
    return;
  }
  if (lname === "serverroot" && args[0]) state.serverRoot = resolve(args[0]);
  if (lname === "define" && args[0]) state.defines.set(args[0], args[1] ?? "");
  if (lname === "loadmodule" && args[0]) {
    state.loadsModules = true;
    state.modules.add(args[0]);
    const so = (args[1] ?? "").split("/").pop() ?? "";
    if (so.endsWith(".so")) state.modules.add(`${so.slice(0, -3)}.c`);
  }
  top(p).section.children.push({ kind: "directive", name, args, raw, file, line });
}

function ifModule(arg: string, state: ParseState): boolean {
  const negate = arg.startsWith("!");
  const name = negate ? arg.slice(1) : arg;
  // Without LoadModule lines the config is a fragment of a larger one: assume present.
  const present = state.loadsModules ? state.modules.has(name) : true;
  return negate ? !present : present;
}

function ifDefine(arg: string, state: ParseState): boolean {
  const negate = arg.startsWith("!");
  const name = negate ? arg.slice(1) : arg;
  const present = state.defines.has(name);
  return negate ? !present : present;
}

/** Turns a shell wildcard (*, ?, [..]) into an anchored RegExp; leading dots need explicit matching. */
export function wildcardToRegExp(pattern: string, pathname = true): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") re += pathname ? "[^/]*" : ".*";
    else if (c === "?") re += pathname ? "[^/]" : ".";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 1);
      if (close < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function hasWildcard(s: string): boolean {
  return /[*?[]/.test(s);
}

function expandInclude(target: string, serverRoot: string, optional: boolean, here: string): string[] {
  const abs = isAbsolute(target) ? target : join(serverRoot, target);
  if (!hasWildcard(abs)) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(abs);
    } catch {
      if (optional) return [];
      throw new InputError(`${here}: Include ${target}: no such file`);
    }
    if (st.isDirectory()) return listDirRecursive(abs);
    return [abs];
  }
  const parts = abs.split("/").filter((p) => p !== "");
  let candidates = ["/"];
  for (const [idx, part] of parts.entries()) {
    const last = idx === parts.length - 1;
    const next: string[] = [];
    for (const base of candidates) {
      if (!hasWildcard(part)) {
        next.push(join(base, part));
        continue;
      }
      const re = wildcardToRegExp(part);
      let entries: string[] = [];
      try {
        entries = readdirSync(base).sort();
      } catch {
        continue;
      }
      for (const e of entries) {
        if (e.startsWith(".") && !part.startsWith(".")) continue;
        if (!re.test(e)) continue;
        const p = join(base, e);
        try {
          const st = statSync(p);
          if (last ? true : st.isDirectory()) next.push(p);
        } catch {
          // vanished or dangling link
        }
      }
    }
    candidates = next;
  }
  const files = candidates.filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  });
  if (files.length === 0 && !optional)
    throw new InputError(`${here}: Include ${target}: no file matches the wildcard`);
  return files.flatMap((f) => (statSync(f).isDirectory() ? listDirRecursive(f) : [f]));
}

function listDirRecursive(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    try {
      if (statSync(p).isDirectory()) out.push(...listDirRecursive(p));
      else out.push(p);
    } catch {
      // dangling link
    }
  }
  return out;
}
