// Phase 8, check_user_id and auth_checker: the phase that decides `Require`.
// mod_authz_core runs the merged Require tree first without a user; when it
// needs one, authentication (AuthType Basic against AuthUserFile) runs and the
// tree runs again with the user. AuthType without Require, or a Require that
// needs a user without AuthType, is a server error (500).

import { isAbsolute, join } from "node:path";
import type { DirectiveRef } from "../../config-decision.js";
import { basicCredentials, checkHtpasswd, type HtpasswdCheck } from "../../htpasswd.js";
import { type AuthzResult, applyAuthz } from "../authz.js";
import type { AuthzContainer, DirConf, Setting } from "../dirconf/types.js";
import * as fixText from "../fix-text.js";
import type { RequestRec } from "../request-rec.js";
import { allow, deny, type Outcome, type Pass } from "./state.js";

/** What the Require tree, then (when it needs a user) the login, make of the request. */
export function authnAuthzPhase(pass: Pass, conf: DirConf, rec: RequestRec): Outcome {
  const authType = conf.authType && conf.authType.value.toLowerCase() !== "none" ? conf.authType : null;
  const withoutUser = requireAnswer(conf, authType, rec, null);
  if (withoutUser !== "declined") return withoutUser;
  if (!authType) {
    const section = conf.authz?.section ?? null;
    return deny(500, section?.children[0]?.ref ?? null, "server-config", [fixText.noAuthType]);
  }
  return authenticate(pass, conf, authType, rec);
}

/**
 * mod_authz_core over the merged tree. Without a user (`user` null) a tree
 * that needs one is "declined" so authentication runs; with one, a refusal is
 * 401 (or 403 with AuthzSendForbiddenOnFailure).
 */
function requireAnswer(
  conf: DirConf,
  authType: Setting<string> | null,
  rec: RequestRec,
  user: string | null,
): Outcome | "declined" {
  const section = conf.authz?.section ?? null;
  const afterAuthn = user !== null;
  if (!section) {
    if (authType) return deny(500, authType.ref, "server-config", [fixText.requireNextToAuthType(authType)]);
    return allow(null, []);
  }
  const r = applyAuthz(section, "and", rec, user);
  const blame = r.blame?.ref ?? null;
  if (r.status === "granted") return allow(blame, []);
  if (r.status === "denied-no-user") {
    if (!afterAuthn) return "declined";
    return deny(401, blame, "credentials-invalid", [fixText.sendValidCredentials(r.blame?.ref)]);
  }
  if (!afterAuthn || !authType) return requireDenied(r, rec);
  if (conf.authz?.forbiddenOnFail) return deny(403, blame, "insufficient-permission", [fixText.userLacks(r)]);
  return deny(401, blame, "insufficient-permission", [fixText.userFails(r)]);
}

/** check_user_id: the credentials sent against AuthType and AuthUserFile, then Require with the user. */
function authenticate(pass: Pass, conf: DirConf, authType: Setting<string>, rec: RequestRec): Outcome {
  const section = conf.authz?.section ?? null;
  const authorization = authorizationHeader(pass);
  const scheme = authorization.split(/\s+/)[0]?.toLowerCase() ?? "";
  const userFile = conf.authUserFile ? ` (AuthUserFile ${conf.authUserFile.value})` : "";
  if (scheme !== authType.value.toLowerCase()) {
    return deny(401, requireLine(section), "credentials-invalid", [
      fixText.loginRequired(authType, userFile),
    ]);
  }
  const checked = checkBasic(pass, conf, authType.value);
  const valid =
    checked.kind === "match" ||
    (checked.kind === "unknown" &&
      rec.oracle.ask(
        "credentials-valid",
        `whether the ${authType.value} credentials sent are valid${userFile}${checked.reason ? ` (${checked.reason})` : ""}`,
      ));
  if (!valid) {
    const who = basicUser(authorization) ?? "";
    return deny(401, requireLine(section), "credentials-invalid", [
      fixText.credentialsRefused(checked, who, conf.authUserFile, userFile),
    ]);
  }
  const after = requireAnswer(conf, authType, rec, basicUser(authorization) ?? "user");
  return after === "declined" ? deny(401, requireLine(section), "credentials-invalid", []) : after;
}

/** The Authorization header; a user:password@ in the URL reaches the server as the one curl or a browser builds. */
function authorizationHeader(pass: Pass): string {
  const { request, parsed } = pass.plan;
  const fromUrl = basicCredentials({ ...request, headers: {} });
  return (
    parsed.headers?.authorization ??
    (fromUrl ? `Basic ${Buffer.from(`${fromUrl.user}:${fromUrl.password}`).toString("base64")}` : "")
  );
}

/** Basic credentials against AuthUserFile (relative to ServerRoot); "unknown" when this machine cannot tell. */
function checkBasic(
  pass: Pass,
  conf: DirConf,
  scheme: string,
): HtpasswdCheck | { kind: "unknown"; reason: string | null } {
  const { request, config } = pass.plan;
  const creds = basicCredentials(request);
  const file = conf.authUserFile?.value;
  if (scheme.toLowerCase() !== "basic" || !creds || !file) return { kind: "unknown", reason: null };
  return checkHtpasswd(isAbsolute(file) ? file : join(config.serverRoot, file), file, creds);
}

const ADDRESS_PROVIDERS = ["ip", "local", "host", "forward-dns"];

/** A refusal without login: the cause follows the provider of the line that refused. */
function requireDenied(r: AuthzResult, rec: RequestRec): Outcome {
  const node = r.blame;
  if (node?.kind !== "provider") {
    return deny(403, node?.ref ?? null, "server-config", [fixText.mergedRequireRefuses(node?.ref ?? null)]);
  }
  const cause = ADDRESS_PROVIDERS.includes(node.provider)
    ? "ip-restriction"
    : node.provider === "user" || node.provider === "group"
      ? "insufficient-permission"
      : "server-config";
  return deny(403, node.ref, cause, [
    fixText.requireRefused(node, rec.client ?? "<client address>", rec.method),
  ]);
}

/** The first Require line of the tree: what a login refusal blames. */
function requireLine(section: AuthzContainer | null): DirectiveRef | null {
  return section?.children.find((c) => c.ref)?.ref ?? null;
}

function basicUser(header: string): string | null {
  const m = /^basic\s+(\S+)/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(0, colon) : null;
}
