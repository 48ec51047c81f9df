// Stage 2: tokens → a tree of directives as plain data, with `include`
// expanded in place (each directive keeps the file and line it came from).
// Relative include paths resolve against the config prefix, which nginx sets
// to the directory of the main config file.

import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { InputError } from "../../errors.js";
import { MAX_INCLUDE_DEPTH } from "../../limits.js";
import { expandGlob, hasGlobMagic } from "./glob.js";
import { type Token, tokenize } from "./lexer.js";
import { MAX_NGINX_CONFIG_FILES, readConfigText } from "./read-file.js";

export interface Directive {
  directive: string;
  args: string[];
  file: string;
  line: number;
  block?: Directive[];
  /** The include directives that brought this directive in, outermost first ("file:line"). */
  includedFrom?: string[];
}

export interface NginxConfig {
  /** The main file as given. */
  file: string;
  /** Directory relative includes resolve against. */
  prefix: string;
  /** nginx's own prefix (`nginx -p`): relative `root` and `alias` paths resolve against it. */
  nginxPrefix: string;
  /** Every file read, in reading order. */
  files: string[];
  directives: Directive[];
}

export interface ParseOptions {
  prefix?: string;
  /** `nginx -p DIR`; the Debian/Ubuntu build's default is /usr/share/nginx. */
  nginxPrefix?: string;
}

/** The prefix the distribution's nginx is built with (`nginx -V`: --prefix=/usr/share/nginx). */
export const DEFAULT_NGINX_PREFIX = "/usr/share/nginx";

/** A config word quoted in a one-line message (a word may hold newlines). */
function quoted(word: string): string {
  const flat = word.replace(/[\r\n\t]+/g, " ");
  return `"${flat.length > 80 ? `${flat.slice(0, 80)}…` : flat}"`;
}

/** Directives that always open a block; ending one with `;` is an error. */
const BLOCK_DIRECTIVES = new Set([
  "http",
  "server",
  "location",
  "if",
  "limit_except",
  "map",
  "geo",
  "upstream",
  "events",
  "types",
  "split_clients",
  "stream",
  "mail",
]);

/**
 * Blocks whose body is data in a grammar of its own (`key value;` entries,
 * `default`, `hostnames`, `include`…), not directives: an entry named `http`
 * or `server` is just a key.
 */
export const DATA_BLOCKS: ReadonlySet<string> = new Set([
  "map",
  "geo",
  "types",
  "split_clients",
  "charset_map",
  "upstream",
  "match",
]);

/** Simple directives with a fixed argument count, to catch a missing `;` early. */
const ARG_COUNTS: Record<string, [number, number]> = {
  allow: [1, 1],
  deny: [1, 1],
  root: [1, 1],
  alias: [1, 1],
  autoindex: [1, 1],
  internal: [0, 0],
  satisfy: [1, 1],
  return: [1, 2],
  auth_basic: [1, 1],
  auth_basic_user_file: [1, 1],
  auth_request: [1, 1],
  include: [1, 1],
  set: [2, 2],
  listen: [1, 20],
};

interface ParseState {
  prefix: string;
  files: string[];
  /** Real paths of the files being read, outermost first, for loop detection. */
  stack: Array<{ real: string; shown: string }>;
}

export function parseNginxConfig(path: string, options: ParseOptions = {}): NginxConfig {
  const main = resolve(path);
  const prefix = resolve(options.prefix ?? dirname(main));
  const state: ParseState = { prefix, files: [], stack: [] };
  const directives = parseFile(main, path, state, []);
  const nginxPrefix = resolve(options.nginxPrefix ?? DEFAULT_NGINX_PREFIX);
  return { file: path, prefix, nginxPrefix, files: state.files, directives };
}

/** Parses config text directly (no includes allowed outside the prefix check). */
export function parseNginxText(text: string, file = "nginx.conf", options: ParseOptions = {}): NginxConfig {
  const prefix = resolve(options.prefix ?? process.cwd());
  const state: ParseState = { prefix, files: [file], stack: [{ real: file, shown: file }] };
  const directives = parseTokens(tokenize(text, file), file, state, []);
  const nginxPrefix = resolve(options.nginxPrefix ?? DEFAULT_NGINX_PREFIX);
  return { file, prefix, nginxPrefix, files: state.files, directives };
}

function shownPath(abs: string, prefix: string): string {
  const rel = relative(prefix, abs);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
}

function parseFile(abs: string, shown: string, state: ParseState, includedFrom: string[]): Directive[] {
  let real = abs;
  try {
    real = realpathSync(abs);
  } catch {
    // readConfigText reports the missing file.
  }
  const loopAt = state.stack.findIndex((f) => f.real === real);
  if (loopAt >= 0) {
    const chain = [...state.stack.slice(loopAt).map((f) => f.shown), shownPath(abs, state.prefix)];
    throw new InputError(`include loop: ${chain.join(" → ")}`);
  }
  if (state.stack.length > MAX_INCLUDE_DEPTH) {
    throw new InputError(`includes nested deeper than ${MAX_INCLUDE_DEPTH} at ${shown}`);
  }
  if (state.files.length >= MAX_NGINX_CONFIG_FILES) {
    throw new InputError(`nginx config pulls in more than ${MAX_NGINX_CONFIG_FILES} files`);
  }
  const text = readConfigText(abs, shown, includedFrom[includedFrom.length - 1]);
  state.files.push(shown);
  state.stack.push({ real, shown: shownPath(abs, state.prefix) });
  try {
    return parseTokens(tokenize(text, shown), shown, state, includedFrom);
  } finally {
    state.stack.pop();
  }
}

function parseTokens(tokens: Token[], file: string, state: ParseState, includedFrom: string[]): Directive[] {
  return parseBlock({ tokens, pos: 0, file, state, includedFrom }, null, null);
}

/** The tokens of one file and how far they are read. */
interface TokenReader {
  readonly tokens: Token[];
  pos: number;
  readonly file: string;
  readonly state: ParseState;
  readonly includedFrom: string[];
}

/** Directives up to the `}` closing a block opened at `openLine` (null: the file's top level). */
function parseBlock(r: TokenReader, openLine: number | null, parent: string | null): Directive[] {
  const { tokens, file, includedFrom } = r;
  const out: Directive[] = [];
  while (r.pos < tokens.length) {
    const tok = tokens[r.pos++] as Token;
    if (tok.kind === "}") {
      if (openLine === null) throw new InputError(`${file}:${tok.line}: unexpected "}"`);
      return out;
    }
    if (tok.kind !== "word") throw new InputError(`${file}:${tok.line}: unexpected ${quoted(tok.value)}`);
    const { args, end } = readArgs(r, tok);
    const name = tok.value;
    const directive: Directive = {
      directive: name,
      args: name === "if" ? stripIfParens(args) : args,
      file,
      line: tok.line,
    };
    if (includedFrom.length > 0) directive.includedFrom = includedFrom;
    const inData = parent !== null && DATA_BLOCKS.has(parent);
    out.push(
      ...(inData ? dataEntry(r, directive, args, end, parent) : codeDirective(r, directive, args, end)),
    );
  }
  if (openLine !== null) {
    throw new InputError(
      `${file}:${openLine}: unexpected end of file, expecting "}" for the block opened here`,
    );
  }
  return out;
}

/** The words after a directive's name, and the `;` or `{` that ends them. */
function readArgs(r: TokenReader, tok: Token): { args: string[]; end: Token } {
  const args: string[] = [];
  let end: Token | undefined;
  while (r.pos < r.tokens.length) {
    const t = r.tokens[r.pos++] as Token;
    if (t.kind === "word") {
      args.push(t.value);
      continue;
    }
    end = t;
    break;
  }
  if (!end) {
    throw new InputError(
      `${r.file}:${tok.line}: unexpected end of file after ${quoted(tok.value)}, expecting ";" or "}"`,
    );
  }
  if (end.kind === "}") {
    throw new InputError(
      `${r.file}:${end.line}: unexpected "}" (missing ";" after ${quoted(tok.value)} at line ${tok.line}?)`,
    );
  }
  return { args, end };
}

/** An entry of a data block (map, geo, types …): only `include` has a meaning of its own. */
function dataEntry(
  r: TokenReader,
  directive: Directive,
  args: string[],
  end: Token,
  parent: string,
): Directive[] {
  const { directive: name, line } = directive;
  if (end.kind === "{")
    throw new InputError(`${r.file}:${line}: unexpected "{" inside the ${quoted(parent)} block`);
  if (name === "include" && args.length === 1) {
    return expandInclude(args[0] as string, r.file, line, r.state, r.includedFrom);
  }
  directive.args = args;
  return [directive];
}

/** A directive outside data blocks: its block read, its argument count checked, an include expanded. */
function codeDirective(r: TokenReader, directive: Directive, args: string[], end: Token): Directive[] {
  const { directive: name, line } = directive;
  if (end.kind === "{") {
    if (name in ARG_COUNTS) {
      throw new InputError(`${r.file}:${line}: directive ${quoted(name)} has no opening "{" (missing ";"?)`);
    }
    directive.block = parseBlock(r, line, name);
    return [directive];
  }
  if (BLOCK_DIRECTIVES.has(name)) {
    throw new InputError(`${r.file}:${line}: directive ${quoted(name)} has no opening "{"`);
  }
  const counts = ARG_COUNTS[name];
  if (counts && (args.length < counts[0] || args.length > counts[1])) {
    throw new InputError(
      `${r.file}:${line}: invalid number of arguments in ${quoted(name)} directive (${args.length}; missing ";"?)`,
    );
  }
  if (name === "include") return expandInclude(args[0] as string, r.file, line, r.state, r.includedFrom);
  return [directive];
}

/** nginx's lexer leaves `(` and `)` glued to the first and last words of an if. */
function stripIfParens(args: string[]): string[] {
  const out = [...args];
  const first = out[0];
  if (first?.startsWith("(")) {
    if (first === "(") out.shift();
    else out[0] = first.slice(1);
  }
  const last = out[out.length - 1];
  if (last?.endsWith(")")) {
    if (last === ")") out.pop();
    else out[out.length - 1] = last.slice(0, -1);
  }
  return out;
}

function expandInclude(
  pattern: string,
  file: string,
  line: number,
  state: ParseState,
  includedFrom: string[],
): Directive[] {
  const abs = resolve(state.prefix, pattern);
  const chain = [...includedFrom, `${file}:${line}`];
  if (!hasGlobMagic(pattern)) {
    return parseFile(abs, shownPath(abs, state.prefix), state, chain);
  }
  const out: Directive[] = [];
  for (const match of expandGlob(abs))
    out.push(...parseFile(match, shownPath(match, state.prefix), state, chain));
  return out;
}

/** Depth-first walk over every directive, with the chain of enclosing blocks. */
export function walkDirectives(
  directives: Directive[],
  visit: (d: Directive, parents: Directive[]) => void,
  parents: Directive[] = [],
): void {
  for (const d of directives) {
    visit(d, parents);
    if (d.block) walkDirectives(d.block, visit, [...parents, d]);
  }
}
