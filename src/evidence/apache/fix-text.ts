// The wording of every fix the Apache evaluator proposes. The phases decide
// (status, cause, the line to blame); these functions only say what to change,
// naming the directive and its file:line, for the person who runs the server.

import type { ConfigContext, DirectiveRef } from "../config-decision.js";
import type { HtpasswdCheck } from "../htpasswd.js";
import type { AuthzResult } from "./authz.js";
import { overrideClass } from "./dirconf/allow-override.js";
import type { AuthzProvider, Setting } from "./dirconf/types.js";

export function where(d: DirectiveRef | null | undefined): string {
  return d ? `${d.file}:${d.line}` : "?";
}

/** "`RewriteRule ^x - [F]` at site.conf:12" */
export function rewriteLine(r: DirectiveRef): string {
  return `\`RewriteRule ${r.args.join(" ")}\` at ${r.file}:${r.line}`;
}

/** " in <LimitExcept GET> at f:12 in <Directory /srv/www/form> at f:11" (empty when unknown). */
export function sectionOf(owner: ConfigContext | null, limit: ConfigContext | null): string {
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

// ---------- translate_name, map_to_storage, the section walk ----------

export const rewriteForbids = (line: string): string =>
  `${line} forbids this request: narrow its pattern or add a RewriteCond that excludes it`;

export const rewriteGone = (line: string): string => `${line} answers 410 Gone for this request`;

export const rewriteLoops = (line: string): string => `${line} loops: more than 10 internal redirects`;

export const traceOff = (d: DirectiveRef): string =>
  `\`TraceEnable Off\` at ${d.file}:${d.line} refuses TRACE (a diagnostic method browsers never send): use GET or POST`;

export const notAllowedInHtaccess = (d: DirectiveRef): string =>
  `\`${d.directive}\` in ${d.file}:${d.line} is not allowed by AllowOverride: add its class (e.g. \`AllowOverride ${overrideClass(d.directive)}\`) in the <Directory> for that folder, or remove the line`;

export const honourHtaccess = (htaccess: string): string =>
  `\`AllowOverride AuthConfig Limit\` in the <Directory> for ${htaccess.replace(/\/[^/]*$/, "")} so the .htaccess there is honoured`;

// ---------- access_checker: mod_access_compat ----------

export const allowAfterOrder = (d: DirectiveRef, client: string): string =>
  `add \`Allow from ${client}\` after \`Order ${d.args.join(" ")}\` at ${d.file}:${d.line}, or replace the legacy Order/Allow/Deny with \`Require ip ${client}\``;

export const denyMatchesClient = (d: DirectiveRef, inSection: string, from: string, client: string): string =>
  `\`${d.directive} ${d.args.join(" ")}\` at ${d.file}:${d.line}${inSection} matches this client (${from}): add \`Allow from ${client}\` there or narrow the Deny, or replace the legacy Order/Allow/Deny with \`Require ip …\``;

export const denyRefusesEveryone = (
  d: DirectiveRef,
  inSection: string,
  limit: ConfigContext | null,
  method: string,
): string =>
  `\`${d.directive} ${d.args.join(" ")}\` at ${d.file}:${d.line}${inSection} refuses everyone: remove it or narrow it${limit ? ` (or take ${method} out of the <${limit.block}> it sits in)` : ""}`;

// ---------- check_user_id and auth_checker: AuthType, Require ----------

export const requireNextToAuthType = (authType: Setting<string>): string =>
  `add a \`Require\` line (e.g. \`Require valid-user\`) next to AuthType at ${authType.ref.file}:${authType.ref.line}`;

export const noAuthType =
  "a Require line needs a user but no AuthType is set: add `AuthType Basic`, `AuthName` and `AuthUserFile` in the same section";

export const sendValidCredentials = (blame: DirectiveRef | null | undefined): string =>
  `send valid credentials for ${blame?.directive ?? "Require"} at ${where(blame)}`;

function describe(r: AuthzResult): string {
  const d = r.blame?.ref;
  return d ? `${d.directive} ${d.args.join(" ")} at ${where(d)}` : "the Require rules";
}

export const userLacks = (r: AuthzResult): string => `the user lacks ${describe(r)}`;

export const userFails = (r: AuthzResult): string => `the user is authenticated but fails ${describe(r)}`;

export const loginRequired = (authType: Setting<string>, userFile: string): string =>
  `this location requires a login (AuthType ${authType.value} at ${authType.ref.file}:${authType.ref.line}${userFile}): send ${authType.value} credentials`;

/** Why the credentials sent were refused: the password file says which part is wrong when it can. */
export function credentialsRefused(
  checked: HtpasswdCheck | { kind: "unknown" },
  who: string,
  authUserFile: Setting<string> | undefined,
  userFile: string,
): string {
  const file = authUserFile?.value ?? "";
  if (checked.kind === "mismatch")
    return `the password sent for user "${who}" does not match its ${checked.scheme} hash at ${file}:${checked.line}: send the right password or reset it with htpasswd`;
  if (checked.kind === "no-user")
    return `user "${who}" is not in ${file}${authUserFile ? ` (AuthUserFile at ${where(authUserFile.ref)})` : ""}: add it with htpasswd or log in as a user listed there`;
  return `the credentials are not accepted${userFile}: check user name and password`;
}

export const mergedRequireRefuses = (d: DirectiveRef | null): string =>
  d
    ? `the ${d.directive} at ${where(d)} refuses this request`
    : "the merged Require rules refuse this request";

/** The fix for the Require line that refused, by its provider. */
export function requireRefused(node: AuthzProvider, client: string, method: string): string {
  const owner = sectionOf(node.owner, node.limit ?? null).replace(/^ in /, "") || node.ref.file;
  const line = `\`Require ${node.negate ? "not " : ""}${node.provider} ${node.args.join(" ")}\` at ${where(node.ref)}`;
  switch (node.provider) {
    case "ip":
    case "local":
    case "host":
    case "forward-dns":
      if (node.negate) return `${line} excludes ${client}: narrow it`;
      return `add \`Require ip ${client}\` inside ${owner} (refused by ${line})`;
    case "all":
      return blanketDenyFix(line, owner, node.limit ?? null, method);
    case "method":
      return `${line} does not list ${method}: add it`;
    case "env":
      return `${line}: the variable is not set for this request; check the SetEnvIf rules that should set it`;
    case "user":
    case "group":
      return `${line}: log in as an allowed user`;
    default:
      return `${line} refuses this request`;
  }
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

// ---------- handler: mod_dir, mod_autoindex, the request body ----------

export const noIndexFile = (names: string[], filename: string, directory: string): string =>
  `no DirectoryIndex file (${names.join(", ")}) in ${filename} and directory listing is off (AH01276): add an index file, or \`Options +Indexes\` inside <Directory ${directory}>`;

export const bodyTooLarge = (size: number, limit: Setting<number>): string =>
  `the body (${size} bytes) is larger than \`LimitRequestBody ${limit.value}\` at ${where(limit.ref)}: raise it there or send a smaller body`;

// ---------- the whole decision ----------

export const giveClientAddress = "give the client address (--client IP) to decide the address rules";

export const modsecRuleRemoval =
  "if the error log shows a ModSecurity rule id for this request, add `SecRuleRemoveById <id>` inside the <Location> for this path";
