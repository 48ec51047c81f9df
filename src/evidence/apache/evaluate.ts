// Evaluates an Apache httpd config for one request, in httpd's phase order:
// server-context rewrite, URL-to-file mapping, the section walk, access
// (mod_access_compat) and authorization (mod_authz_core) with Satisfy,
// authentication, per-directory rewrite, then mod_dir / mod_autoindex.

import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { InputError } from "../../errors.js";
import {
  type ConfigContext,
  type ConfigDecision,
  type ConfigRequest,
  type DirectiveRef,
  newDecision,
  requestBodyBytes,
} from "../config-decision.js";
import { basicCredentials, checkHtpasswd } from "../htpasswd.js";
import { type AuthzResult, applyAuthz, checkAccessCompat, runSetEnvIf, satisfyOf } from "./authz.js";
import { buildDirConf } from "./dirconf/build.js";
import type { RewriteConf as PerDirRewrite, RewriteRuleDef } from "./dirconf/types.js";
import { type DirConf, type RewriteConf, ref } from "./dirconf/types.js";
import { explore, type Oracle } from "./oracle.js";
import type { ApacheConfig, ApacheDirective, ApacheNode } from "./parser.js";
import { toRegExp } from "./pcre.js";
import type { RequestRec } from "./request-rec.js";
import { type RewriteOutcome, runRewrite } from "./rewrite.js";
import { selectVirtualHost } from "./vhost.js";
import { type ServerScope, walkSections } from "./walk.js";

export interface EvaluateOptions {
  /** Read .htaccess files from disk (default true). */
  readHtaccess?: boolean;
}

interface Outcome {
  decision: "allow" | "deny" | "unknown";
  status: number | null;
  decidedBy: DirectiveRef | null;
  cause: string | null;
  fix: string[];
  notes: string[];
}

interface Mapped {
  filename: string;
  diskKnown: boolean;
  by: DirectiveRef | null;
  redirect?: DirectiveRef;
}

const directives = (nodes: ApacheNode[], ...names: string[]): ApacheDirective[] =>
  nodes.filter((n): n is ApacheDirective => n.kind === "directive" && names.includes(n.name.toLowerCase()));

export function evaluateApache(
  config: ApacheConfig,
  request: ConfigRequest,
  options: EvaluateOptions = {},
): ConfigDecision {
  const readHtaccess = options.readHtaccess ?? true;
  let url: URL;
  try {
    url = new URL(request.url, "http://localhost");
  } catch {
    throw new InputError(`not a URL: ${request.url}`);
  }
  const method = request.method.toUpperCase();
  const https = url.protocol === "https:";
  const port = url.port ? Number(url.port) : https ? 443 : 80;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const headers = request.headers
    ? Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]))
    : null;
  const base: ConfigDecision = newDecision(request, method, "unknown");

  const normalized = normalizePath(url.pathname);
  if (normalized === null) {
    return {
      ...base,
      decision: "allow",
      status: 404,
      unknowns: ["the path holds an encoded slash (%2F); with AllowEncodedSlashes Off httpd answers 404"],
    };
  }
  const vsel = selectVirtualHost(config.nodes, host, port);
  const scope: ServerScope = { main: config.nodes, vhost: vsel.vhost };
  const unknowns: string[] = [...vsel.notes];

  const accessFileName =
    lastArg([...config.nodes, ...(scope.vhost?.children ?? [])], "accessfilename") ?? ".htaccess";
  const serverRewrite = serverRewriteConf(scope);
  const serverSetEnvIf = [
    ...buildDirConf(
      directives(config.nodes, "setenvif", "setenvifnocase", "browsermatch", "browsermatchnocase"),
      { perdir: null, owner: null, origin: "server" },
    ).setEnvIf,
    ...(scope.vhost
      ? buildDirConf(
          directives(
            scope.vhost.children,
            "setenvif",
            "setenvifnocase",
            "browsermatch",
            "browsermatchnocase",
          ),
          {
            perdir: null,
            owner: null,
            origin: "vhost",
          },
        ).setEnvIf
      : []),
  ];
  const autoindexLoaded = !config.loadsModules || config.modules.includes("autoindex_module");

  const walkCache = new Map<string, ReturnType<typeof walkSections> & { mapped: Mapped }>();
  const walkFor = (uriPath: string) => {
    const cached = walkCache.get(uriPath);
    if (cached) return cached;
    const mapped = mapToFile(scope, uriPath, config.serverRoot);
    const w = walkSections(scope, {
      filename: mapped.filename,
      uriPath,
      diskKnown: mapped.diskKnown,
      accessFileName: readHtaccess ? accessFileName : "\u0000never",
    });
    const r = { ...w, mapped };
    walkCache.set(uriPath, r);
    return r;
  };

  const first = walkFor(normalized);
  if (!first.mapped.diskKnown) {
    unknowns.push(
      `${first.mapped.filename} is not on this machine: directory existence, index files and .htaccess files are not checked`,
    );
  }

  const decide = (oracle: Oracle): Outcome => {
    const facts = (uriPath: string, filename: string, diskKnown: boolean): RequestRec => ({
      method,
      client: request.client,
      headers,
      path: uriPath,
      query: url.search.replace(/^\?/, ""),
      host,
      port,
      https,
      filename,
      diskKnown,
      env: new Map(),
      oracle,
    });
    const f0 = facts(normalized, first.mapped.filename, first.mapped.diskKnown);
    const rw = runRewrite(serverRewrite, f0, () => normalized);
    const rwOutcome = rewriteOutcome(rw, "server");
    if (rwOutcome) return rwOutcome;
    if (first.mapped.redirect)
      return allow(first.mapped.redirect, ["a Redirect answers before access control"]);
    const trace = traceAnswer(scope, method);
    if (trace) return trace;
    let internalRedirects = 0;
    return decidePath(normalized, 0);

    /** The request's body against LimitRequestBody, once the rest lets it through (httpd reads the body in the handler). */
    function bodyLimit(conf: DirConf, outcome: Outcome): Outcome {
      const limit = conf.limitRequestBody;
      const size = requestBodyBytes(request);
      if (outcome.decision !== "allow" || !limit || limit.value === 0 || size === null) return outcome;
      if (size <= limit.value) return outcome;
      return deny(413, limit.ref, "server-config", [
        `the body (${size} bytes) is larger than \`LimitRequestBody ${limit.value}\` at ${where(limit.ref)}: raise it there or send a smaller body`,
      ]);
    }

    /** A per-directory rewrite to a local URL (the front-controller pattern) is an internal redirect: follow it. */
    function followRewrite(rule: RewriteRuleDef, rw: PerDirRewrite | undefined): Outcome | null {
      const target = perdirTarget(rule, rw);
      if (target === null) return null;
      const line = `\`RewriteRule ${rule.ref.args.join(" ")}\` at ${rule.ref.file}:${rule.ref.line}`;
      // httpd's LimitInternalRecursion (10) ends a rewrite loop with 500.
      if (++internalRedirects > 10)
        return deny(500, rule.ref, "server-config", [`${line} loops: more than 10 internal redirects`]);
      const next = decidePath(target, 0);
      return { ...next, notes: [`${line} rewrites the request to ${target} (followed)`, ...next.notes] };
    }

    function decidePath(uriPath: string, depth: number): Outcome {
      const w = walkFor(uriPath);
      const f = facts(
        uriPath,
        w.mapped.filename + (w.isDirectory && !w.mapped.filename.endsWith("/") ? "/" : ""),
        w.mapped.diskKnown,
      );
      const conf = w.conf;
      if (conf.notAllowed.length > 0) {
        const d = conf.notAllowed[0] as DirectiveRef;
        return deny(500, d, "server-config", [
          `\`${d.directive}\` in ${d.file}:${d.line} is not allowed by AllowOverride: add its class (e.g. \`AllowOverride ${overrideHint(d.directive)}\`) in the <Directory> for that folder, or remove the line`,
        ]);
      }
      runSetEnvIf([...serverSetEnvIf, ...conf.setEnvIf], f);
      const authz = authorize(conf, f, headers);
      if (authz.decision !== "allow") return authz;
      const perdir = runRewrite(conf.rewrite, f, (rule) => {
        if (!rule.perdir) return f.path;
        const name = f.filename ?? "";
        return name.startsWith(rule.perdir) ? name.slice(rule.perdir.length) : null;
      });
      if (perdir.kind === "rewritten") {
        const followed = followRewrite(perdir.rule, conf.rewrite);
        if (followed) return followed;
      }
      const perdirOutcome = rewriteOutcome(perdir, "directory");
      if (perdirOutcome) return perdirOutcome;
      if (w.isDirectory && depth === 0) {
        if (!uriPath.endsWith("/"))
          return { ...authz, notes: [...authz.notes, "mod_dir redirects to the path with a trailing slash"] };
        return directoryIndex(uriPath, w, conf, authz, depth);
      }
      if (w.mapped.diskKnown && !w.exists)
        return bodyLimit(conf, {
          ...authz,
          notes: [...authz.notes, `${w.mapped.filename} does not exist: httpd answers 404`],
        });
      return bodyLimit(conf, authz);
    }

    function directoryIndex(
      uriPath: string,
      w: ReturnType<typeof walkFor>,
      conf: DirConf,
      authz: Outcome,
      depth: number,
    ): Outcome {
      const names = conf.directoryIndex?.value ?? ["index.html"];
      let refused: Outcome | null = null;
      if (!(names.length === 1 && names[0]?.toLowerCase() === "disabled")) {
        for (const name of names) {
          const sub = name.startsWith("/") ? name : `${uriPath}${name}`;
          const subWalk = walkFor(sub);
          const fileThere = subWalk.mapped.diskKnown
            ? subWalk.exists && !subWalk.isDirectory
            : oracle.ask(`index:${sub}`, `whether ${subWalk.mapped.filename} exists (DirectoryIndex)`);
          const subOutcome = decidePath(sub, depth + 1);
          if (subOutcome.decision === "deny" && subOutcome.status !== 404) {
            refused ??= subOutcome;
            continue;
          }
          if (fileThere) return subOutcome;
        }
      }
      if (refused) return refused;
      const opts = conf.options?.abs ?? new Set<string>();
      if (!autoindexLoaded)
        return {
          ...authz,
          notes: [
            ...authz.notes,
            `no index file in ${w.mapped.filename} and mod_autoindex is not loaded: httpd answers 404`,
          ],
        };
      if (opts.has("Indexes")) return authz;
      // mod_autoindex only answers GET (and HEAD); other methods fall through to 404/405/200.
      if (method !== "GET" && method !== "HEAD") return authz;
      const by = conf.options?.ref ?? conf.directoryIndex?.ref ?? null;
      return deny(403, by, "server-config", [
        `no DirectoryIndex file (${names.join(", ")}) in ${w.mapped.filename} and directory listing is off (AH01276): add an index file, or \`Options +Indexes\` inside <Directory ${w.directory}>`,
      ]);
    }
  };

  const run = explore(decide);
  const outcomes = run.results.map((r) => r.result);
  const firstOutcome = outcomes[0] as Outcome;
  const agree =
    run.complete &&
    outcomes.every((o) => o.decision === firstOutcome.decision && o.status === firstOutcome.status);

  const context: ConfigContext[] = [...first.context];
  unknowns.push(...first.notes);
  for (const h of first.ignoredHtaccess) {
    const ao = h.allowOverride
      ? ` (AllowOverride at ${h.allowOverride.file}:${h.allowOverride.line})`
      : " (AllowOverride defaults to None)";
    unknowns.push(`${h.path} exists but httpd ignores it${ao}`);
  }
  const modsec = first.conf.modsecEngine;
  if (modsec && modsec.value !== "off") {
    const removed = first.conf.modsecRemoved.map((r) => r.args.join(" ")).join(", ");
    unknowns.push(
      `ModSecurity is active for this location (SecRuleEngine ${modsec.value} at ${modsec.ref.file}:${modsec.ref.line}${removed ? `; SecRuleRemoveById ${removed}` : ""}); whether a rule matches the request content cannot be predicted from the config`,
    );
    context.push({
      block: "SecRuleEngine",
      args: [modsec.value],
      file: modsec.ref.file,
      line: modsec.ref.line,
    });
  }

  if (!agree) {
    const differing = [...run.questions.values()];
    return {
      ...base,
      decision: "unknown",
      context,
      unknowns: [
        ...unknowns,
        ...differing,
        ...(run.complete ? [] : ["too many unknown facts to try every combination"]),
      ],
      fix:
        request.client === null && differing.some((q) => q.includes("client"))
          ? ["give the client address (--client IP) to decide the address rules"]
          : [],
    };
  }
  const fix = [...firstOutcome.fix];
  if (firstOutcome.decision === "deny") {
    for (const h of first.ignoredHtaccess.filter((x) => x.grants)) {
      fix.push(
        `\`AllowOverride AuthConfig Limit\` in the <Directory> for ${h.path.replace(/\/[^/]*$/, "")} so the .htaccess there is honoured`,
      );
    }
    if (modsec && modsec.value === "on") {
      fix.push(
        "if the error log shows a ModSecurity rule id for this request, add `SecRuleRemoveById <id>` inside the <Location> for this path",
      );
    }
  }
  return {
    ...base,
    decision: firstOutcome.decision,
    status: firstOutcome.status,
    decidedBy: firstOutcome.decidedBy,
    context,
    unknowns: [...unknowns, ...firstOutcome.notes],
    fix,
    cause: firstOutcome.cause,
    // Extension: the file or directory the URL maps to, for the file-system walk.
    filePath: first.mapped.diskKnown ? first.mapped.filename : null,
    isDirectory: first.isDirectory,
  } as ConfigDecision;

  function authorize(conf: DirConf, f: RequestRec, hdrs: Record<string, string> | null): Outcome {
    const satisfy = satisfyOf(conf.access, f.method);
    const access = checkAccessCompat(conf.access, f);
    if (satisfy === "any" && access.ok)
      return allow(access.by?.ref ?? null, ["Satisfy Any: the host rules let it through without login"]);
    if (satisfy !== "any" && !access.ok) return accessDenied(conf, access.by ?? null, f);
    const authType = conf.authType && conf.authType.value.toLowerCase() !== "none" ? conf.authType : null;
    const section = conf.authz?.section ?? null;
    const core = (afterAuthn: boolean, user: string | null): Outcome | "declined" => {
      if (!section) {
        if (authType)
          return deny(500, authType.ref, "server-config", [
            `add a \`Require\` line (e.g. \`Require valid-user\`) next to AuthType at ${authType.ref.file}:${authType.ref.line}`,
          ]);
        return allow(null, []);
      }
      const r = applyAuthz(section, "and", f, user);
      if (r.status === "granted") return allow(r.blame?.ref ?? null, []);
      if (r.status === "denied-no-user") {
        if (!afterAuthn) return "declined";
        return deny(401, r.blame?.ref ?? null, "credentials-invalid", [
          `send valid credentials for ${r.blame?.ref?.directive ?? "Require"} at ${where(r.blame?.ref)}`,
        ]);
      }
      if (!afterAuthn || !authType) return authzDenied(r, f);
      if (conf.authz?.forbiddenOnFail)
        return deny(403, r.blame?.ref ?? null, "insufficient-permission", [`the user lacks ${describe(r)}`]);
      return deny(401, r.blame?.ref ?? null, "insufficient-permission", [
        `the user is authenticated but fails ${describe(r)}`,
      ]);
    };
    const ex = core(false, null);
    if (ex !== "declined") return ex;
    if (!authType) {
      return deny(500, section?.children[0]?.ref ?? null, "server-config", [
        "a Require line needs a user but no AuthType is set: add `AuthType Basic`, `AuthName` and `AuthUserFile` in the same section",
      ]);
    }
    // A user:password@ in the URL reaches the server as the Authorization header curl or a browser builds.
    const fromUrl = basicCredentials({ ...request, headers: {} });
    const authz =
      hdrs?.authorization ??
      (fromUrl ? `Basic ${Buffer.from(`${fromUrl.user}:${fromUrl.password}`).toString("base64")}` : "");
    const scheme = authz.split(/\s+/)[0]?.toLowerCase() ?? "";
    const userFile = conf.authUserFile ? ` (AuthUserFile ${conf.authUserFile.value})` : "";
    if (scheme !== authType.value.toLowerCase()) {
      return deny(401, requireLine(section), "credentials-invalid", [
        `this location requires a login (AuthType ${authType.value} at ${authType.ref.file}:${authType.ref.line}${userFile}): send ${authType.value} credentials`,
      ]);
    }
    const checked = checkBasic(conf, authType.value);
    const valid =
      checked.kind === "match" ||
      (checked.kind === "unknown" &&
        f.oracle.ask(
          "credentials-valid",
          `whether the ${authType.value} credentials sent are valid${userFile}${checked.reason ? ` (${checked.reason})` : ""}`,
        ));
    if (!valid) {
      const file = conf.authUserFile?.value ?? "";
      const who = basicUser(authz) ?? "";
      const fix =
        checked.kind === "mismatch"
          ? `the password sent for user "${who}" does not match its ${checked.scheme} hash at ${file}:${checked.line}: send the right password or reset it with htpasswd`
          : checked.kind === "no-user"
            ? `user "${who}" is not in ${file}${conf.authUserFile ? ` (AuthUserFile at ${where(conf.authUserFile.ref)})` : ""}: add it with htpasswd or log in as a user listed there`
            : `the credentials are not accepted${userFile}: check user name and password`;
      return deny(401, requireLine(section), "credentials-invalid", [fix]);
    }
    const user = basicUser(authz) ?? "user";
    const after = core(true, user);
    return after === "declined" ? deny(401, requireLine(section), "credentials-invalid", []) : after;
  }

  /** Basic credentials against AuthUserFile (relative to ServerRoot); "unknown" when this machine cannot tell. */
  function checkBasic(
    conf: DirConf,
    scheme: string,
  ): ReturnType<typeof checkHtpasswd> | { kind: "unknown"; reason: string | null } {
    const creds = basicCredentials(request);
    const file = conf.authUserFile?.value;
    if (scheme.toLowerCase() !== "basic" || !creds || !file) return { kind: "unknown", reason: null };
    return checkHtpasswd(isAbsolute(file) ? file : join(config.serverRoot, file), file, creds);
  }

  function accessDenied(
    conf: DirConf,
    by: ReturnType<typeof checkAccessCompat>["by"],
    f: RequestRec,
  ): Outcome {
    const client = f.client ?? "<client address>";
    if (!by) return deny(403, null, "ip-restriction", []);
    const d = by.ref;
    const isIpRule = (from: string): boolean =>
      from.toLowerCase() !== "all" && !from.toLowerCase().startsWith("env=");
    // An address list anywhere in the Allow lines makes `Deny from all` the rest of an allowlist.
    const allowList = (conf.access?.allows ?? []).some((a) => isIpRule(a.from));
    if (d.directive.toLowerCase() === "order") {
      return deny(403, d, allowList ? "ip-restriction" : "server-config", [
        `add \`Allow from ${client}\` after \`Order ${d.args.join(" ")}\` at ${d.file}:${d.line}, or replace the legacy Order/Allow/Deny with \`Require ip ${client}\``,
      ]);
    }
    const from = "from" in by && by.from ? by.from : "";
    const limit = "owner" in by ? (by.limit ?? null) : null;
    const inSection = "owner" in by ? sectionOf(by.owner ?? null, limit) : "";
    const addressRule = isIpRule(from) || allowList;
    return deny(403, d, addressRule ? "ip-restriction" : "server-config", [
      addressRule
        ? `\`${d.directive} ${d.args.join(" ")}\` at ${d.file}:${d.line}${inSection} matches this client (${from}): add \`Allow from ${client}\` there or narrow the Deny, or replace the legacy Order/Allow/Deny with \`Require ip …\``
        : `\`${d.directive} ${d.args.join(" ")}\` at ${d.file}:${d.line}${inSection} refuses everyone: remove it or narrow it${limit ? ` (or take ${f.method} out of the <${limit.block}> it sits in)` : ""}`,
    ]);
  }

  function authzDenied(r: AuthzResult, f: RequestRec): Outcome {
    const node = r.blame;
    const client = f.client ?? "<client address>";
    if (node?.kind !== "provider") {
      return deny(403, node?.ref ?? null, "server-config", [
        node?.ref
          ? `the ${node.ref.directive} at ${where(node.ref)} refuses this request`
          : "the merged Require rules refuse this request",
      ]);
    }
    const owner = sectionOf(node.owner, node.limit ?? null).replace(/^ in /, "") || node.ref.file;
    const line = `\`Require ${node.negate ? "not " : ""}${node.provider} ${node.args.join(" ")}\` at ${where(node.ref)}`;
    switch (node.provider) {
      case "ip":
      case "local":
      case "host":
      case "forward-dns":
        if (node.negate)
          return deny(403, node.ref, "ip-restriction", [`${line} excludes ${client}: narrow it`]);
        return deny(403, node.ref, "ip-restriction", [
          `add \`Require ip ${client}\` inside ${owner} (refused by ${line})`,
        ]);
      case "all":
        return deny(403, node.ref, "server-config", [
          blanketDenyFix(line, owner, node.limit ?? null, f.method),
        ]);
      case "method":
        return deny(403, node.ref, "server-config", [`${line} does not list ${f.method}: add it`]);
      case "env":
        return deny(403, node.ref, "server-config", [
          `${line}: the variable is not set for this request; check the SetEnvIf rules that should set it`,
        ]);
      case "user":
      case "group":
        return deny(403, node.ref, "insufficient-permission", [`${line}: log in as an allowed user`]);
      default:
        return deny(403, node.ref, "server-config", [`${line} refuses this request`]);
    }
  }
}

/** " in <LimitExcept GET> at f:12 in <Directory /srv/www/form> at f:11" (empty when unknown). */
function sectionOf(owner: ConfigContext | null, limit: ConfigContext | null): string {
  const name = (c: ConfigContext): string =>
    c.block === ".htaccess"
      ? c.file
      : `<${c.block}${c.args?.length ? ` ${c.args.join(" ")}` : ""}> at ${c.file}:${c.line}`;
  // A .htaccess is already named by the line's own file:line.
  return [limit, owner]
    .filter((c): c is ConfigContext => c !== null && c.block !== ".htaccess")
    .map((c) => ` in ${name(c)}`)
    .join("");
}

/** The fix for a `Require all denied` that matched: narrow or remove it where it is, method limit first. */
function blanketDenyFix(line: string, section: string, limit: ConfigContext | null, method: string): string {
  const here = section ? ` in ${section}` : "";
  const kind = limit?.block.toLowerCase();
  if (kind === "limitexcept") {
    const methods = limit?.args ?? [];
    return `${line}${here} refuses every method but ${methods.join(" ")}: if ${method} is meant to be accepted there, make it \`<LimitExcept ${[...methods, method].join(" ")}>\`; otherwise the refusal is deliberate`;
  }
  if (kind === "limit") {
    const methods = (limit?.args ?? []).filter((m) => m.toUpperCase() !== method);
    return `${line}${here} refuses ${method}: take ${method} out of that <Limit>${methods.length ? ` (\`<Limit ${methods.join(" ")}>\`)` : ""} if it is meant to be accepted`;
  }
  return `${line}${here} refuses everyone: remove it or narrow it there (\`Require all granted\` if the path is public, \`Require ip …\` for a known network)`;
}

function describe(r: AuthzResult): string {
  const d = r.blame?.ref;
  return d ? `${d.directive} ${d.args.join(" ")} at ${where(d)}` : "the Require rules";
}

function where(d: DirectiveRef | null | undefined): string {
  return d ? `${d.file}:${d.line}` : "?";
}

function requireLine(section: { children: Array<{ ref: DirectiveRef | null }> } | null): DirectiveRef | null {
  return section?.children.find((c) => c.ref)?.ref ?? null;
}

function basicUser(header: string): string | null {
  const m = /^basic\s+(\S+)/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(0, colon) : null;
}

function overrideHint(directive: string): string {
  const n = directive.replace(/^<|>$/g, "").toLowerCase();
  if (
    [
      "require",
      "authtype",
      "authname",
      "authuserfile",
      "requireall",
      "requireany",
      "requirenone",
      "satisfy",
      "authmerging",
    ].includes(n)
  )
    return "AuthConfig";
  if (["order", "allow", "deny"].includes(n)) return "Limit";
  if (n === "options") return "Options";
  if (n === "directoryindex") return "Indexes";
  return "FileInfo";
}

function allow(by: DirectiveRef | null, notes: string[]): Outcome {
  return { decision: "allow", status: null, decidedBy: by, cause: null, fix: [], notes };
}

function deny(status: number, by: DirectiveRef | null, cause: string, fix: string[]): Outcome {
  return { decision: "deny", status, decidedBy: by, cause, fix, notes: [] };
}

function rewriteOutcome(rw: RewriteOutcome, where: "server" | "directory"): Outcome | null {
  if (rw.kind === "none") return null;
  const r = rw.rule.ref;
  const line = `\`RewriteRule ${r.args.join(" ")}\` at ${r.file}:${r.line}`;
  if (rw.kind === "forbidden") {
    return deny(403, r, "server-config", [
      `${line} forbids this request: narrow its pattern or add a RewriteCond that excludes it`,
    ]);
  }
  if (rw.kind === "gone") return deny(410, r, "server-config", [`${line} answers 410 Gone for this request`]);
  if (rw.kind === "redirect") return allow(r, [`${line} redirects this request`]);
  return {
    decision: "unknown",
    status: null,
    decidedBy: r,
    cause: null,
    fix: [],
    notes: [`${line} rewrites the URL in ${where} context; the rewritten request is not followed`],
  };
}

function lastArg(nodes: ApacheNode[], name: string): string | undefined {
  const found = directives(nodes, name);
  return found[found.length - 1]?.args[0];
}

/** Server-context rewrite rules: the vhost's own (plus the main server's with RewriteOptions Inherit), else the main server's. */
function serverRewriteConf(scope: ServerScope): RewriteConf | undefined {
  const names = ["rewriteengine", "rewriterule", "rewritecond", "rewriteoptions"];
  const mainConf = buildDirConf(directives(scope.main, ...names), {
    perdir: null,
    owner: null,
    origin: "server",
  }).rewrite;
  if (!scope.vhost) return mainConf;
  const v = buildDirConf(directives(scope.vhost.children, ...names), {
    perdir: null,
    owner: null,
    origin: "vhost",
  }).rewrite;
  if (!v) return undefined;
  if (v.inherit && mainConf) return { ...v, rules: [...v.rules, ...mainConf.rules] };
  return v;
}

/** Decodes and normalises the URL-path like httpd (%-decoding, dot segments, merged slashes); null for %2F. */
export function normalizePath(pathname: string): string | null {
  if (/%2f/i.test(pathname)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    decoded = pathname;
  }
  const out: string[] = [];
  const segments = decoded.split("/");
  for (const [i, s] of segments.entries()) {
    if (s === "" && i !== segments.length - 1) continue;
    if (s === ".") continue;
    if (s === "..") {
      out.pop();
      continue;
    }
    out.push(s);
  }
  const joined = `/${out.join("/")}`;
  return joined.replace(/\/{2,}/g, "/");
}

/** URL-path to file: Alias/AliasMatch/ScriptAlias (vhost first), Redirect, else DocumentRoot. */
function mapToFile(scope: ServerScope, uriPath: string, serverRoot: string): Mapped {
  const lists = [scope.vhost?.children ?? [], scope.main];
  for (const nodes of lists) {
    for (const d of directives(
      nodes,
      "alias",
      "scriptalias",
      "aliasmatch",
      "scriptaliasmatch",
      "redirect",
      "redirectmatch",
      "redirectpermanent",
      "redirecttemp",
    )) {
      const n = d.name.toLowerCase();
      const isRedirect = n.startsWith("redirect");
      const args =
        isRedirect && /^(permanent|temp|seeother|gone|\d{3})$/i.test(d.args[0] ?? "")
          ? d.args.slice(1)
          : d.args;
      const [from, to] = args as [string, string | undefined];
      if (!from) continue;
      if (n.endsWith("match")) {
        const re = toRegExp(from);
        const m = re?.exec(uriPath);
        if (!m) continue;
        if (isRedirect) return { filename: uriPath, diskKnown: false, by: ref(d), redirect: ref(d) };
        const target = (to ?? "").replace(/\$(\d)/g, (_x, i: string) => m[Number(i)] ?? "");
        return { filename: target, diskKnown: diskKnown(target), by: ref(d) };
      }
      if (!aliasMatches(from, uriPath)) continue;
      if (isRedirect) return { filename: uriPath, diskKnown: false, by: ref(d), redirect: ref(d) };
      const rest = uriPath.slice(from.replace(/\/+$/, "").length);
      const target = `${(to ?? "").replace(/\/+$/, "")}${rest}`;
      return { filename: target || "/", diskKnown: diskKnown(to ?? "/"), by: ref(d) };
    }
  }
  const docRootDirective = [
    ...directives(scope.vhost?.children ?? [], "documentroot"),
    ...directives(scope.main, "documentroot"),
  ][0];
  const given = docRootDirective?.args[0] ?? "/var/www/html";
  const docRoot = (given.startsWith("/") ? given : `${serverRoot}/${given}`).replace(/\/+$/, "");
  return {
    filename: `${docRoot}${uriPath}`,
    diskKnown: diskKnown(docRoot || "/"),
    by: docRootDirective ? ref(docRootDirective) : null,
  };
}

function diskKnown(path: string): boolean {
  return existsSync(path);
}

/** mod_alias: the alias must match whole path segments. */
function aliasMatches(alias: string, uri: string): boolean {
  const a = alias.replace(/\/{2,}/g, "/");
  if (a.endsWith("/")) return uri.startsWith(a);
  return uri === a || uri.startsWith(`${a}/`);
}

/**
 * TRACE is answered by httpd's core in map_to_storage, before any access
 * check: 405 with `TraceEnable Off` (the vhost's setting over the main
 * server's), else the echo.
 */
function traceAnswer(scope: ServerScope, method: string): Outcome | null {
  if (method !== "TRACE") return null;
  const last = (nodes: ApacheNode[]) => directives(nodes, "traceenable").at(-1);
  const d = (scope.vhost ? last(scope.vhost.children) : undefined) ?? last(scope.main);
  if (d && (d.args[0] ?? "").toLowerCase() === "off") {
    return deny(405, ref(d), "server-config", [
      `\`TraceEnable Off\` at ${d.file}:${d.line} refuses TRACE (a diagnostic method browsers never send): use GET or POST`,
    ]);
  }
  return allow(d ? ref(d) : null, [
    "httpd's core answers TRACE itself (an echo of the request) before access control",
  ]);
}

/** The URL-path a per-directory substitution leads to: "/x" as it is, "x" under RewriteBase; null when it needs captures. */
function perdirTarget(rule: RewriteRuleDef, rw: { base?: string } | undefined): string | null {
  const sub = rule.substitution;
  if (sub === "-" || /[$%]/.test(sub) || /^[a-z][a-z0-9+.-]*:\/\//i.test(sub)) return null;
  const path = sub.split("?")[0] ?? sub;
  if (path.startsWith("/")) return normalizePath(path);
  if (rw?.base === undefined) return null;
  return normalizePath(`${rw.base.replace(/\/*$/, "/")}${path}`);
}
