// The sentences the phases write: fixes and the reasons a decision stays
// open. The phases decide; this file only words what they decided, so a
// change of phrasing never touches a decision.

import type { HtpasswdCheck } from "../../htpasswd.js";
import { type LocationSpec, locationLabel } from "../location-select.js";
import type { Directive } from "../parser.js";
import { at, blockName, show } from "./state.js";

/** " in `location /x` at file:line", or nothing at server level. */
function inLocation(final: LocationSpec | undefined): string {
  return final ? ` in ${locationLabel(final)} at ${at(final.directive)}` : "";
}

export function returnFix(directive: Directive, via: Directive | null): string {
  const why = via ? ` because \`if (${via.args.join(" ")})\` at ${at(via)} holds for this request` : "";
  return `remove or narrow ${show(directive)} at ${at(directive)}${why}`;
}

export function internalFix(final: LocationSpec, internal: Directive): string {
  return `${locationLabel(final)} at ${at(internal)} is \`internal;\`: reach it only through error_page, try_files, index or rewrite, or remove \`internal;\``;
}

export function uncertainIfUnknown(ifDirective: Directive, missing: string): string {
  const cond = `\`if (${ifDirective.args.join(" ")})\` at ${at(ifDirective)}`;
  return missing.startsWith("the map on")
    ? `${missing} (read by the ${cond})`
    : `the ${cond} needs ${missing}`;
}

/** Fixes for an allow/deny refusal of a method limit_except does not list. */
export function limitExceptFixes(
  method: string,
  limitedBy: Directive,
  rule: Directive,
  client: string | null | undefined,
): string[] {
  const fixes = [`add ${method} to \`limit_except ${limitedBy.args.join(" ")}\` at ${at(limitedBy)}`];
  if (rule.args[0] === "all" && client) {
    fixes.push(`or add \`allow ${client};\` before ${show(rule)} at ${at(rule)} (inside limit_except)`);
  }
  return fixes;
}

/** The fix for `deny all` with no `allow` beside it: no address gets through. */
export function blanketDenyFix(
  rule: Directive,
  ruleLevel: Directive | undefined,
  method: string,
  uri: string,
): string {
  return `remove ${show(rule)} at ${at(rule)}${within(ruleLevel)} if ${method} ${uri} should be served, or serve it from a location that does not deny it`;
}

/** The fix for an address list that refuses this client. */
export function addressDenyFix(rule: Directive, ruleLevel: Directive | undefined, client: string): string {
  if (rule.args[0] === "all")
    return `add \`allow ${client};\` before \`deny all;\` at ${at(rule)}${within(ruleLevel)}`;
  return `remove or narrow ${show(rule)} at ${at(rule)}${within(ruleLevel)} (it matches ${client})`;
}

function within(level: Directive | undefined): string {
  return level ? ` inside ${blockName(level)}` : "";
}

/** Fixes for an auth_basic 401: what is wrong with the credentials sent, then `satisfy any`. */
export function basicAuthFixes(
  authBasic: Directive,
  userFile: Directive | null,
  check: HtpasswdCheck | null,
  user: string | undefined,
  client: string | null | undefined,
  holder: Directive | undefined,
): string[] {
  const named = userFile ? `${userFile.args[0]} (${at(userFile)})` : "the auth_basic_user_file";
  const fixes: string[] = [];
  if (check?.kind === "mismatch") {
    fixes.push(
      `the password sent for user "${user}" does not match its ${check.scheme} hash at ${userFile?.args[0]}:${check.line}: send the right password or reset it with htpasswd`,
    );
  } else if (check?.kind === "no-user") {
    fixes.push(`user "${user}" is not in ${named}: add it with htpasswd or log in as a user listed there`);
  } else {
    fixes.push(`send Basic credentials for realm "${authBasic.args[0]}" that are in ${named}`);
  }
  if (client) {
    fixes.push(
      `or use \`satisfy any;\` with \`allow ${client};\` ${holder ? `inside ${blockName(holder)}` : "in the same block"}`,
    );
  }
  return fixes;
}

export function basicPendingUnknown(authBasic: Directive | null, check: HtpasswdCheck | null): string {
  return `auth_basic at ${authBasic ? at(authBasic) : ""} checks the Basic credentials against its password file${check?.kind === "unknown" ? `, and ${check.reason}` : ""}`;
}

export function authRequestUnknown(authRequest: Directive | null): string {
  return `auth_request ${authRequest?.args[0] ?? ""} at ${authRequest ? at(authRequest) : ""} decides through a subrequest`;
}

export function indexFix(names: string[], dirPath: string, final: LocationSpec | undefined): string {
  return `add an index file (${names.join(" or ")}) to ${dirPath} or \`autoindex on;\`${inLocation(final)}`;
}

/** Why the static module refuses a method, by what the URI names. */
export function staticMethodFix(
  target: "directory" | "file" | "existing-file",
  method: string,
  final: LocationSpec | undefined,
): string {
  const where = inLocation(final);
  if (target === "directory")
    return `nginx serves static files only to GET, HEAD (and POST to an index); send ${method} to an application (proxy_pass/fastcgi_pass)${where}`;
  if (target === "file")
    return `nginx serves static files only to GET and HEAD; send ${method} to an application (proxy_pass/fastcgi_pass)${where}`;
  return `nginx answers POST to a static file with 405; send POST to an application (proxy_pass/fastcgi_pass)${where}`;
}

export function foreignModuleUnknown(count: number, method: string, rawPath: string): string {
  return `a module behind ${count === 1 ? "that directive" : "those directives"} could refuse or answer ${method} ${rawPath} in its access or content phase`;
}
