// NGX_HTTP_ACCESS_PHASE and NGX_HTTP_POST_ACCESS_PHASE: the access module
// (allow/deny), auth_basic and auth_request each give a verdict; `satisfy
// all` (the default) needs every one to pass, `satisfy any` one of them.
// This is the phase that decides `deny` and a Basic-auth 401.

import { resolve } from "node:path";
import {
  type BasicCredentials,
  basicCredentials,
  checkHtpasswd,
  type HtpasswdCheck,
} from "../../htpasswd.js";
import { type AccessVerdict, evalAllowDeny } from "../access.js";
import type { Directive, NginxConfig } from "../parser.js";
import { at, innermost, type NginxRequestState, type PhaseResult, ref } from "./state.js";
import {
  addressDenyFix,
  authRequestUnknown,
  basicAuthFixes,
  basicPendingUnknown,
  blanketDenyFix,
  limitExceptFixes,
} from "./wording.js";

/** What the access handlers see for this request, read from the levels that apply. */
interface AccessInputs {
  /** The innermost level with allow/deny rules (only that level's rules count). */
  ruleLevel: Directive | undefined;
  rules: Directive[];
  access: AccessVerdict;
  satisfy: Directive | null;
  authBasic: Directive | null;
  basicOn: boolean;
  authRequest: Directive | null;
  requestOn: boolean;
  creds: BasicCredentials | null;
  userFile: Directive | null;
  /** The credentials sent, checked against the user file (null without auth_basic or credentials). */
  basicCheck: HtpasswdCheck | null;
}

function readAccessInputs(st: NginxRequestState): AccessInputs {
  const levels = st.levels;
  const isRule = (d: Directive) => d.directive === "allow" || d.directive === "deny";
  const ruleLevel = [...levels].reverse().find((l) => (l.block ?? []).some(isRule));
  const rules = (ruleLevel?.block ?? []).filter(isRule);
  const authBasic = innermost(levels, "auth_basic");
  const basicOn = !!authBasic && authBasic.args[0] !== "off";
  const authRequest = innermost(levels, "auth_request");
  const creds = basicCredentials(st.request);
  const userFile = innermost(levels, "auth_basic_user_file");
  return {
    ruleLevel,
    rules,
    access: evalAllowDeny(rules, st.request.client),
    satisfy: innermost(levels, "satisfy"),
    authBasic,
    basicOn,
    authRequest,
    requestOn: !!authRequest && authRequest.args[0] !== "off",
    creds,
    userFile,
    basicCheck: basicOn && creds ? checkUserFile(st.config, userFile, creds) : null,
  };
}

export function accessPhase(st: NginxRequestState): PhaseResult {
  const a = readAccessInputs(st);
  return a.satisfy?.args[0] === "any" ? satisfyAny(st, a) : satisfyAll(st, a);
}

const basicPasses = (a: AccessInputs) => a.basicCheck?.kind === "match";
const basicFails = (a: AccessInputs) => a.basicCheck?.kind === "mismatch" || a.basicCheck?.kind === "no-user";

/** `satisfy all`: the first handler that refuses answers; one we cannot decide leaves it open. */
function satisfyAll(st: NginxRequestState, a: AccessInputs): PhaseResult {
  const decision = st.decision;
  if (a.access.kind === "unknown") {
    decision.decision = "unknown";
    st.unknowns.push(a.access.reason);
    return "decided";
  }
  st.firm = true;
  if (a.access.kind === "deny") return denyByAddress(st, a, a.access.rule);
  if (a.basicOn && (a.creds === null || basicFails(a))) return denyBasic(st, a);
  st.firm = false;
  const basicPending = a.basicOn && !basicPasses(a);
  if (basicPending || a.requestOn) {
    decision.decision = "unknown";
    decision.decidedBy = ref((a.requestOn ? a.authRequest : a.authBasic) as Directive);
    if (basicPending) st.unknowns.push(basicPendingUnknown(a.authBasic, a.basicCheck));
    if (a.requestOn) st.unknowns.push(authRequestUnknown(a.authRequest));
    return "decided";
  }
  return "next";
}

/** `satisfy any`: one handler that lets the request through is enough. */
function satisfyAny(st: NginxRequestState, a: AccessInputs): PhaseResult {
  const anyOk = a.access.kind === "allow" || (a.basicOn && basicPasses(a));
  if (anyOk) return "next";
  const pending: string[] = [];
  if (a.access.kind === "unknown") pending.push(a.access.reason);
  if (a.basicOn && a.creds !== null && !basicFails(a))
    pending.push(basicPendingUnknown(a.authBasic, a.basicCheck));
  if (a.requestOn) pending.push(authRequestUnknown(a.authRequest));
  if (pending.length > 0) {
    st.decision.decision = "unknown";
    const where = a.satisfy ? at(a.satisfy) : "";
    st.unknowns.push(...pending.map((p) => `${p} (satisfy any at ${where})`));
    return "decided";
  }
  if (a.basicOn) return denyBasic(st, a);
  if (a.access.kind === "deny") return denyByAddress(st, a, a.access.rule);
  return "next";
}

/** 403 from an allow/deny rule: a location's refusal, an address list, or a limit_except. */
function denyByAddress(st: NginxRequestState, a: AccessInputs, rule: Directive): PhaseResult {
  const { decision, request, method } = st;
  decision.decision = "deny";
  decision.status = 403;
  decision.decidedBy = ref(rule);
  const limitedBy = st.location.limitedBy;
  if (limitedBy) {
    decision.cause = "server-config";
    st.fix.push(...limitExceptFixes(method, limitedBy, rule, request.client));
  } else if (rule.args[0] === "all" && !a.rules.some((r) => r.directive === "allow")) {
    // No address gets through: a location deny, not an address list.
    decision.cause = "server-config";
    st.fix.push(blanketDenyFix(rule, a.ruleLevel, method, st.uri));
  } else {
    decision.cause = "ip-restriction";
    st.fix.push(addressDenyFix(rule, a.ruleLevel, request.client ?? "CLIENT"));
  }
  return "decided";
}

/** 401 from auth_basic: no credentials, an unknown user or a wrong password. */
function denyBasic(st: NginxRequestState, a: AccessInputs): PhaseResult {
  const authBasic = a.authBasic as Directive;
  const decision = st.decision;
  decision.decision = "deny";
  decision.status = 401;
  decision.decidedBy = ref(authBasic);
  decision.cause = "credentials-invalid";
  const client = st.request.client;
  const holder = client
    ? [...st.levels].reverse().find((l) => (l.block ?? []).includes(authBasic))
    : undefined;
  st.fix.push(...basicAuthFixes(authBasic, a.userFile, a.basicCheck, a.creds?.user, client, holder));
  return "decided";
}

/** Checks Basic credentials against the auth_basic_user_file (relative to the config's directory, as nginx resolves it). */
function checkUserFile(config: NginxConfig, file: Directive | null, creds: BasicCredentials): HtpasswdCheck {
  const given = file?.args[0];
  if (!given) return { kind: "unknown", reason: "no auth_basic_user_file is set (nginx answers 500)" };
  if (given.includes("$"))
    return { kind: "unknown", reason: `the user file ${given} at ${at(file)} names a variable` };
  return checkHtpasswd(resolve(config.prefix, given), given, creds);
}
