// Stage 3: walks one request through the phases nginx runs — server
// selection, server rewrite, location search, location rewrite, access,
// content — and reports which directive allows or refuses it.

import { statSync } from "node:fs";
import { isIP } from "node:net";
import { isAbsolute, join, resolve } from "node:path";
import { InputError } from "../../errors.js";
import { REFUSAL_STATUSES } from "../../model.js";
import {
  type ConfigContext,
  type ConfigDecision,
  type ConfigRequest,
  type DirectiveRef,
  newDecision,
} from "../config-decision.js";
import { basicCredentials, checkHtpasswd, type HtpasswdCheck } from "../htpasswd.js";
import { evalAllowDeny } from "./access.js";
import { unknownDirectivesOn } from "./known-directives.js";
import { findLocation, type LocationSpec, locationLabel, parseLocation } from "./location-select.js";
import type { Directive, NginxConfig } from "./parser.js";
import { pcreToRegExp } from "./regex.js";
import { selectServer } from "./server-select.js";
import { normalizeUri, splitRequestUrl } from "./uri.js";
import { evalCondition, type Truth, Variables } from "./variables.js";

export interface NginxDecision extends ConfigDecision {
  /** Extension: the file the request maps to through root/alias, when static content answers. */
  filePath?: string | null;
  /** Extension: how the server and location were chosen. */
  matched?: { server: string; location: string | null };
}

/** Most URI changes (rewrite last, index) nginx follows before answering 500. */
const MAX_URI_CHANGES = 10;

/** Unknown directives named one by one before the rest are counted. */
const MAX_LISTED_UNKNOWN = 10;

const UPSTREAM_HANDLERS = [
  "proxy_pass",
  "fastcgi_pass",
  "uwsgi_pass",
  "scgi_pass",
  "grpc_pass",
  "memcached_pass",
  "empty_gif",
  "stub_status",
  "dav_methods",
];

const ref = (d: Directive): DirectiveRef => ({
  directive: d.directive,
  args: d.args,
  file: d.file,
  line: d.line,
});
const at = (d: Directive): string => `${d.file}:${d.line}`;
const show = (d: Directive): string => `\`${[d.directive, ...d.args].join(" ")}\``;

function contextOf(d: Directive): ConfigContext {
  const c: ConfigContext = { block: d.directive, file: d.file, line: d.line };
  if (d.args.length > 0) c.args = d.args;
  return c;
}

type RewriteResult =
  | { kind: "continue" }
  | { kind: "return"; directive: Directive; status: number; via: Directive | null }
  | { kind: "last" | "break"; directive: Directive };

class Evaluation {
  readonly unknowns: string[] = [];
  readonly fix: string[] = [];
  readonly context: ConfigContext[] = [];
  /** An `if` whose condition we could not decide but which could answer on its own. */
  uncertainIf: { directive: Directive; returnsRefusal: boolean } | null = null;
  /** The last `if` block whose condition held (its config answers the content phase). */
  ifBlock: Directive | null = null;
  uri: string;
  query: string;

  constructor(
    readonly request: ConfigRequest,
    readonly method: string,
    readonly vars: Variables,
    uri: string,
    query: string,
    readonly setUri: (u: string) => void,
  ) {
    this.uri = uri;
    this.query = query;
  }

  runRewrite(block: Directive[], via: Directive | null): RewriteResult {
    for (const d of block) {
      switch (d.directive) {
        case "set": {
          const name = (d.args[0] ?? "").replace(/^\$/, "");
          this.vars.set(name, this.vars.interpolate(d.args[1] ?? "").value);
          break;
        }
        case "return": {
          const first = d.args[0] ?? "";
          const status = /^\d+$/.test(first) ? Number(first) : 302;
          return { kind: "return", directive: d, status, via };
        }
        case "break":
          return { kind: "break", directive: d };
        case "rewrite": {
          const r = this.rewrite(d);
          if (r) return r;
          break;
        }
        case "if": {
          for (const inner of d.block ?? []) {
            if (inner.directive === "allow" || inner.directive === "deny") {
              this.unknowns.push(
                `nginx does not allow \`${inner.directive}\` inside \`if\` (${at(inner)}); \`nginx -t\` fails and the config would not load`,
              );
            }
          }
          const truth: Truth = evalCondition(d.args, this.vars, (test) => this.fileTest(test));
          if (typeof truth !== "boolean") {
            const decisive = (d.block ?? []).some((x) =>
              ["return", "rewrite", "break"].includes(x.directive),
            );
            if (decisive) {
              const cond = `\`if (${d.args.join(" ")})\` at ${at(d)}`;
              this.unknowns.push(
                truth.unknown.startsWith("the map on")
                  ? `${truth.unknown} (read by the ${cond})`
                  : `the ${cond} needs ${truth.unknown}`,
              );
              const ret = (d.block ?? []).find((x) => x.directive === "return");
              const returnsRefusal = !!ret && Number(ret.args[0]) >= 400;
              if (!this.uncertainIf) this.uncertainIf = { directive: d, returnsRefusal };
            }
            break;
          }
          if (!truth) break;
          this.ifBlock = d;
          const inner = this.runRewrite(d.block ?? [], d);
          if (inner.kind !== "continue") return inner;
          break;
        }
      }
    }
    return { kind: "continue" };
  }

  private rewrite(d: Directive): RewriteResult | null {
    const [pattern = "", replacement = "", flag] = d.args;
    const re = pcreToRegExp(pattern, false);
    if (!re) {
      this.unknowns.push(`the rewrite regex at ${at(d)} cannot be evaluated here`);
      return null;
    }
    const m = re.exec(this.uri);
    if (!m) return null;
    this.vars.captures.length = 0;
    this.vars.captures.push(...m.map((x) => x ?? ""));
    const target = this.vars.interpolate(replacement);
    if (target.value === undefined) {
      this.unknowns.push(`the rewrite at ${at(d)} needs ${target.missing}`);
      return { kind: "break", directive: d };
    }
    if (/^(https?:\/\/|\$scheme)/.test(replacement) || flag === "redirect" || flag === "permanent") {
      return { kind: "return", directive: d, status: flag === "permanent" ? 301 : 302, via: null };
    }
    const q = target.value.indexOf("?");
    const newUri = q >= 0 ? target.value.slice(0, q) : target.value;
    if (q >= 0)
      this.query =
        target.value.slice(q + 1) + (this.query && !target.value.endsWith("?") ? `&${this.query}` : "");
    this.uri = newUri;
    this.setUri(newUri);
    if (flag === "break") return { kind: "break", directive: d };
    return { kind: "last", directive: d };
  }

  fileTest(test: string): Truth {
    const [op, ...rest] = test.split(" ");
    const path = rest.join(" ");
    try {
      const st = statSync(path);
      if (op === "-f") return st.isFile();
      if (op === "-d") return st.isDirectory();
      if (op === "-x") return (st.mode & 0o111) !== 0;
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return false;
      return { unknown: `whether ${path} exists (${code})` };
    }
  }
}

/** The innermost level that holds `name`, searching the levels innermost first. */
function innermost(levels: Directive[], name: string): Directive | null {
  for (let i = levels.length - 1; i >= 0; i--) {
    const hit = (levels[i]?.block ?? []).filter((d) => d.directive === name);
    if (hit.length > 0) return hit[hit.length - 1] as Directive;
  }
  return null;
}

/** The block a rule sits in, as the config spells it, with file:line. */
function blockName(d: Directive): string {
  const label =
    d.directive === "location" ? locationLabel(parseLocation(d)) : [d.directive, ...d.args].join(" ");
  return `\`${label}\` at ${at(d)}`;
}

function hostOf(request: ConfigRequest, urlHost: string): string {
  const h = request.headers?.host;
  const raw = h !== undefined ? h : urlHost;
  return raw
    .trim()
    .toLowerCase()
    .replace(/^\[([^\]]*)\](:\d+)?$/, "$1")
    .replace(/:\d+$/, "")
    .replace(/\.$/, "");
}

export function evaluateNginx(config: NginxConfig, request: ConfigRequest): NginxDecision {
  const target = splitRequestUrl(request.url);
  if (!target) throw new InputError(`not an absolute http(s) URL: ${request.url}`);
  const method = request.method.toUpperCase();
  const decision: NginxDecision = newDecision(request, method, "allow");

  const http = config.directives.find((d) => d.directive === "http") ?? null;
  const top: Directive[] = http?.block ?? config.directives;
  const servers = top.filter((d) => d.directive === "server" && d.block);
  if (servers.length === 0) throw new InputError(`no server block in ${config.file}`);
  const host = hostOf(request, target.host);
  const localAddress = isIP(target.host) ? target.host : target.host === "localhost" ? "127.0.0.1" : null;
  const choice = selectServer(servers, target.port, localAddress, host);
  if (!choice) {
    decision.decision = "unknown";
    decision.unknowns.push(`no server block listens on port ${target.port}`);
    return decision;
  }
  const server = choice.server;
  const serverBlock = server.block ?? [];
  const serverNames = serverBlock.filter((d) => d.directive === "server_name").flatMap((d) => d.args);
  decision.matched = { server: `${at(server)} (${choice.how})`, location: null };

  const uri0 = normalizeUri(target.rawPath);
  const baseContext = [...(http ? [contextOf(http)] : []), contextOf(server)];
  decision.context = [...baseContext];
  if (uri0 === null) {
    decision.decision = "deny";
    decision.status = 400;
    decision.cause = "server-config";
    decision.unknowns.push(`the path ${target.rawPath} climbs above the root; nginx answers 400`);
    return decision;
  }

  let uri = uri0;
  const mapBlocks = top.filter((d) => (d.directive === "map" || d.directive === "geo") && d.block);
  let currentLevels: Directive[] = [];
  const vars = new Variables(
    {
      method,
      uri,
      rawPath: target.rawPath,
      query: target.query,
      host,
      scheme: target.scheme,
      port: target.port,
      client: request.client,
      headers: request.headers,
      serverNames,
    },
    mapBlocks,
    () => innermost(currentLevels, "valid_referers"),
  );
  const facts = vars.facts;
  const ev = new Evaluation(request, method, vars, uri, target.query, (u) => {
    uri = u;
    facts.uri = u;
  });

  let locationUncertain = false;
  /**
   * True when the answer comes before any module's access or content handler
   * could act: a `return` or rewrite, `internal`, or an allow/deny or
   * auth_basic refusal under `satisfy all`.
   */
  let firm = false;
  const finish = (): NginxDecision => {
    const foreign = unknownDirectivesOn(currentLevels);
    decision.unknowns.push(...foreign.slice(0, MAX_LISTED_UNKNOWN).map((u) => u.sentence));
    if (foreign.length > MAX_LISTED_UNKNOWN)
      decision.unknowns.push(`and ${foreign.length - MAX_LISTED_UNKNOWN} more unknown directives`);
    decision.unknowns.push(...ev.unknowns);
    decision.fix.push(...ev.fix);
    const u = ev.uncertainIf;
    // A module we do not know could refuse (access phase) or answer (content
    // phase) a request the stock modules would let through.
    const foreignCouldAct = foreign.length > 0 && !firm;
    if (foreignCouldAct) {
      decision.unknowns.push(
        `a module behind ${foreign.length === 1 ? "that directive" : "those directives"} could refuse or answer ${method} ${target.rawPath} in its access or content phase`,
      );
    }
    // An undecided `if` in the rewrite phase could have answered before access or content did.
    if (locationUncertain || u || foreignCouldAct) {
      decision.decision = "unknown";
      decision.status = null;
      decision.decidedBy = null;
      decision.cause = null;
      decision.fix = [];
    }
    return decision;
  };
  const answerReturn = (r: Extract<RewriteResult, { kind: "return" }>): NginxDecision => {
    firm = true;
    decision.status = r.status;
    decision.decidedBy = ref(r.directive);
    if (r.via) decision.context.push(contextOf(r.via));
    if (r.status >= 400) {
      decision.decision = "deny";
      decision.cause = "server-config";
      const why = r.via
        ? ` because \`if (${r.via.args.join(" ")})\` at ${at(r.via)} holds for this request`
        : "";
      decision.fix.push(`remove or narrow ${show(r.directive)} at ${at(r.directive)}${why}`);
    } else {
      decision.decision = "allow";
    }
    return finish();
  };

  // Server-level rewrite directives run before any location is chosen.
  currentLevels = http ? [http, server] : [server];
  const serverRewrite = ev.runRewrite(
    serverBlock.filter((d) => d.directive !== "location"),
    null,
  );
  if (serverRewrite.kind === "return") return answerReturn(serverRewrite);
  ev.ifBlock = null;

  let internalRedirect = serverRewrite.kind === "last";
  for (let changes = 0; ; changes++) {
    if (changes > MAX_URI_CHANGES) {
      firm = true;
      decision.decision = "deny";
      decision.status = 500;
      decision.cause = "server-config";
      decision.unknowns.push(`more than ${MAX_URI_CHANGES} internal redirects (a rewrite or index loop)`);
      return finish();
    }
    const match = findLocation(serverBlock, uri);
    for (const l of match.unsupported) {
      ev.unknowns.push(`the regex of ${locationLabel(l)} at ${at(l.directive)} cannot be evaluated here`);
    }
    if (match.unsupported.length > 0) locationUncertain = true;
    const chain = match.chain;
    const final: LocationSpec | undefined = chain[chain.length - 1];
    decision.matched.location = final ? `${locationLabel(final)} at ${at(final.directive)}` : null;
    decision.context = [...baseContext, ...chain.map((l) => contextOf(l.directive))];
    const levels: Directive[] = [...(http ? [http] : []), server, ...chain.map((l) => l.directive)];
    currentLevels = levels;
    const finalBlock = final?.directive.block ?? [];

    const internal = finalBlock.find((d) => d.directive === "internal");
    if (internal && !internalRedirect) {
      firm = true;
      decision.decision = "deny";
      decision.status = 404;
      decision.decidedBy = ref(internal);
      decision.cause = "server-config";
      ev.fix.push(
        `${locationLabel(final as LocationSpec)} at ${at(internal)} is \`internal;\`: reach it only through error_page, try_files, index or rewrite, or remove \`internal;\``,
      );
      return finish();
    }

    let limitedBy: Directive | null = null;
    const limitExcept = finalBlock.find((d) => d.directive === "limit_except");
    if (limitExcept) {
      const listed = new Set(limitExcept.args.map((a) => a.toUpperCase()));
      if (listed.has("GET")) listed.add("HEAD");
      if (!listed.has(method)) {
        limitedBy = limitExcept;
        levels.push(limitExcept);
        decision.context.push(contextOf(limitExcept));
      }
    }

    // For a method limit_except does not list, its block replaces the location's
    // config: the location's rewrite directives (return, rewrite, if) do not run.
    if (final && !limitedBy) {
      ev.ifBlock = null;
      const r = ev.runRewrite(finalBlock, null);
      if (r.kind === "return") return answerReturn(r);
      if (r.kind === "last") {
        internalRedirect = true;
        continue;
      }
    }

    // Access phase: allow/deny, then auth_basic, then auth_request; `satisfy` combines them.
    const ruleLevel = [...levels]
      .reverse()
      .find((l) => (l.block ?? []).some((d) => d.directive === "allow" || d.directive === "deny"));
    const rules = (ruleLevel?.block ?? []).filter((d) => d.directive === "allow" || d.directive === "deny");
    const access = evalAllowDeny(rules, request.client);
    const satisfy = innermost(levels, "satisfy");
    const any = satisfy?.args[0] === "any";
    const authBasic = innermost(levels, "auth_basic");
    const basicOn = !!authBasic && authBasic.args[0] !== "off";
    const authRequest = innermost(levels, "auth_request");
    const requestOn = !!authRequest && authRequest.args[0] !== "off";
    const creds = basicCredentials(request);
    const hasBasic = creds !== null;
    const userFile = innermost(levels, "auth_basic_user_file");
    const basicCheck: HtpasswdCheck | null = basicOn && creds ? checkUserFile(config, userFile, creds) : null;

    const denyByAddress = (): NginxDecision => {
      if (access.kind !== "deny") throw new Error("unreachable");
      const rule = access.rule;
      decision.decision = "deny";
      decision.status = 403;
      decision.decidedBy = ref(rule);
      if (limitedBy) {
        decision.cause = "server-config";
        const methods = limitedBy.args.join(" ");
        ev.fix.push(`add ${method} to \`limit_except ${methods}\` at ${at(limitedBy)}`);
        if (rule.args[0] === "all" && request.client) {
          ev.fix.push(
            `or add \`allow ${request.client};\` before ${show(rule)} at ${at(rule)} (inside limit_except)`,
          );
        }
      } else {
        const where = ruleLevel ? ` inside ${blockName(ruleLevel)}` : "";
        const blanket = rule.args[0] === "all" && !rules.some((r) => r.directive === "allow");
        const client = request.client ?? "CLIENT";
        if (blanket) {
          // No address gets through: a location deny, not an address list.
          decision.cause = "server-config";
          ev.fix.push(
            `remove ${show(rule)} at ${at(rule)}${where} if ${method} ${uri} should be served, or serve it from a location that does not deny it`,
          );
        } else {
          decision.cause = "ip-restriction";
          if (rule.args[0] === "all")
            ev.fix.push(`add \`allow ${client};\` before \`deny all;\` at ${at(rule)}${where}`);
          else ev.fix.push(`remove or narrow ${show(rule)} at ${at(rule)}${where} (it matches ${client})`);
        }
      }
      return finish();
    };
    const deny401 = (): NginxDecision => {
      const d = authBasic as Directive;
      decision.decision = "deny";
      decision.status = 401;
      decision.decidedBy = ref(d);
      decision.cause = "credentials-invalid";
      const file = userFile;
      const named = file ? `${file.args[0]} (${at(file)})` : "the auth_basic_user_file";
      if (basicCheck?.kind === "mismatch") {
        ev.fix.push(
          `the password sent for user "${creds?.user}" does not match its ${basicCheck.scheme} hash at ${file?.args[0]}:${basicCheck.line}: send the right password or reset it with htpasswd`,
        );
      } else if (basicCheck?.kind === "no-user") {
        ev.fix.push(
          `user "${creds?.user}" is not in ${named}: add it with htpasswd or log in as a user listed there`,
        );
      } else {
        ev.fix.push(`send Basic credentials for realm "${d.args[0]}" that are in ${named}`);
      }
      if (request.client) {
        const holder = [...levels].reverse().find((l) => (l.block ?? []).includes(d));
        ev.fix.push(
          `or use \`satisfy any;\` with \`allow ${request.client};\` ${holder ? `inside ${blockName(holder)}` : "in the same block"}`,
        );
      }
      return finish();
    };
    const basicUnknown = `auth_basic at ${authBasic ? at(authBasic) : ""} checks the Basic credentials against its password file${basicCheck?.kind === "unknown" ? `, and ${basicCheck.reason}` : ""}`;
    const basicPasses = basicCheck?.kind === "match";
    const basicFails = basicCheck?.kind === "mismatch" || basicCheck?.kind === "no-user";
    const requestUnknown = `auth_request ${authRequest?.args[0] ?? ""} at ${authRequest ? at(authRequest) : ""} decides through a subrequest`;

    if (!any) {
      if (access.kind === "unknown") {
        decision.decision = "unknown";
        ev.unknowns.push(access.reason);
        return finish();
      }
      firm = true;
      if (access.kind === "deny") return denyByAddress();
      if (basicOn && (!hasBasic || basicFails)) return deny401();
      firm = false;
      const basicPending = basicOn && !basicPasses;
      if (basicPending || requestOn) {
        decision.decision = "unknown";
        decision.decidedBy = ref((requestOn ? authRequest : authBasic) as Directive);
        if (basicPending) ev.unknowns.push(basicUnknown);
        if (requestOn) ev.unknowns.push(requestUnknown);
        return finish();
      }
    } else {
      const anyOk = access.kind === "allow" || (basicOn && basicPasses);
      if (!anyOk) {
        const pending: string[] = [];
        if (access.kind === "unknown") pending.push(access.reason);
        if (basicOn && hasBasic && !basicFails) pending.push(basicUnknown);
        if (requestOn) pending.push(requestUnknown);
        if (pending.length > 0) {
          decision.decision = "unknown";
          ev.unknowns.push(...pending.map((p) => `${p} (satisfy any at ${satisfy ? at(satisfy) : ""})`));
          return finish();
        }
        if (basicOn) return deny401();
        if (access.kind === "deny") return denyByAddress();
      }
    }

    // Content phase.
    const ifBlock = ev.ifBlock as Directive | null;
    const contentLevels = ifBlock ? [...levels, ifBlock] : levels;
    const ownBlocks = [finalBlock, ...(ifBlock ? [ifBlock.block ?? []] : [])].flat();
    const handler = ownBlocks.find((d) => UPSTREAM_HANDLERS.includes(d.directive));
    if (handler) {
      decision.decision = "allow";
      decision.filePath = null;
      return finish();
    }
    const tryFiles = ownBlocks.find((d) => d.directive === "try_files");
    if (tryFiles) {
      decision.decision = "allow";
      ev.unknowns.push(`${show(tryFiles)} at ${at(tryFiles)} picks the file or fallback; not followed here`);
      return finish();
    }
    const stat = staticAnswer(ev, contentLevels, final, uri, method, config.nginxPrefix);
    decision.filePath = stat.filePath;
    if (stat.redirectTo) {
      uri = stat.redirectTo;
      facts.uri = uri;
      ev.uri = uri;
      internalRedirect = true;
      continue;
    }
    if (stat.unknown) {
      decision.decision = "unknown";
      ev.unknowns.push(stat.unknown);
      return finish();
    }
    decision.status = stat.status;
    if (stat.status !== null && REFUSAL_STATUSES.has(stat.status)) {
      decision.decision = "deny";
      decision.cause = "server-config";
      decision.decidedBy = stat.decidedBy ? ref(stat.decidedBy) : null;
      if (stat.fix) ev.fix.push(stat.fix);
    } else {
      decision.decision = "allow";
    }
    return finish();
  }
}

interface StaticResult {
  filePath: string | null;
  status: number | null;
  redirectTo?: string;
  unknown?: string;
  decidedBy?: Directive | null;
  fix?: string;
}

/** The index, autoindex and static modules, checked against the disk. */
function staticAnswer(
  ev: Evaluation,
  levels: Directive[],
  final: LocationSpec | undefined,
  uri: string,
  method: string,
  nginxPrefix: string,
): StaticResult {
  const alias = final ? (final.directive.block ?? []).find((d) => d.directive === "alias") : undefined;
  const root = innermost(levels, "root");
  let filePath: string;
  if (alias && final) {
    if (final.kind === "regex" || final.kind === "regex-caseless") {
      const a = ev.vars.interpolate(alias.args[0] ?? "");
      if (a.value === undefined)
        return { filePath: null, status: null, unknown: `the alias at ${at(alias)} uses captures` };
      filePath = a.value;
    } else filePath = (alias.args[0] ?? "") + uri.slice(final.pattern.length);
    if (!isAbsolute(filePath)) filePath = join(nginxPrefix, filePath);
  } else {
    const r = root ? ev.vars.interpolate(root.args[0] ?? "") : { value: "html" };
    if (r.value === undefined)
      return {
        filePath: null,
        status: null,
        unknown: `the root at ${root ? at(root) : ""} needs ${r.missing}`,
      };
    // nginx resolves a relative root against its prefix (-p), not the config's directory.
    filePath = join(isAbsolute(r.value) ? r.value : join(nginxPrefix, r.value), uri);
    if (uri.endsWith("/") && !filePath.endsWith("/")) filePath += "/";
  }
  const where = root ?? alias ?? final?.directive ?? null;
  const probe = (p: string): "file" | "dir" | "missing" | "other" | { unknown: string } => {
    try {
      const st = statSync(p);
      return st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return "missing";
      return { unknown: `whether ${p} exists (${code})` };
    }
  };

  if (uri.endsWith("/")) {
    if (method === "GET" || method === "HEAD" || method === "POST") {
      const indexDirective = innermost(levels, "index");
      const names = indexDirective ? indexDirective.args : ["index.html"];
      let dirChecked = false;
      for (const name of names) {
        if (name.startsWith("/")) return { filePath, status: null, redirectTo: name };
        const kind = probe(join(filePath, name));
        if (typeof kind !== "string") return { filePath, status: null, unknown: kind.unknown };
        if (kind === "file") return { filePath, status: null, redirectTo: uri + name };
        if (!dirChecked) {
          dirChecked = true;
          const dir = probe(filePath);
          if (typeof dir !== "string") return { filePath, status: null, unknown: dir.unknown };
          if (dir === "missing") return { filePath, status: 404 };
        }
      }
      const autoindex = innermost(levels, "autoindex");
      if (autoindex?.args[0] === "on" && (method === "GET" || method === "HEAD"))
        return { filePath, status: 200 };
      if (method === "POST" || method === "GET" || method === "HEAD") {
        return {
          filePath,
          status: 403,
          decidedBy: autoindex ?? indexDirective ?? where,
          fix: `add an index file (${names.join(" or ")}) to ${filePath} or \`autoindex on;\`${final ? ` in ${locationLabel(final)} at ${at(final.directive)}` : ""}`,
        };
      }
    }
    return {
      filePath,
      status: 405,
      decidedBy: where,
      fix: `nginx serves static files only to GET, HEAD (and POST to an index); send ${method} to an application (proxy_pass/fastcgi_pass)${final ? ` in ${locationLabel(final)} at ${at(final.directive)}` : ""}`,
    };
  }
  if (!["GET", "HEAD", "POST"].includes(method)) {
    return {
      filePath,
      status: 405,
      decidedBy: where,
      fix: `nginx serves static files only to GET and HEAD; send ${method} to an application (proxy_pass/fastcgi_pass)${final ? ` in ${locationLabel(final)} at ${at(final.directive)}` : ""}`,
    };
  }
  const kind = probe(filePath);
  if (typeof kind !== "string") return { filePath, status: null, unknown: kind.unknown };
  if (kind === "missing" || kind === "other") return { filePath, status: 404 };
  if (kind === "dir") return { filePath, status: 301 };
  if (method === "POST") {
    return {
      filePath,
      status: 405,
      decidedBy: where,
      fix: `nginx answers POST to a static file with 405; send POST to an application (proxy_pass/fastcgi_pass)${final ? ` in ${locationLabel(final)} at ${at(final.directive)}` : ""}`,
    };
  }
  return { filePath, status: 200 };
}

/** Checks Basic credentials against the auth_basic_user_file (relative to the config's directory, as nginx resolves it). */
function checkUserFile(
  config: NginxConfig,
  file: Directive | null,
  creds: { user: string; password: string },
): HtpasswdCheck {
  const given = file?.args[0];
  if (!given) return { kind: "unknown", reason: "no auth_basic_user_file is set (nginx answers 500)" };
  if (given.includes("$"))
    return { kind: "unknown", reason: `the user file ${given} at ${at(file)} names a variable` };
  return checkHtpasswd(resolve(config.prefix, given), given, creds);
}
