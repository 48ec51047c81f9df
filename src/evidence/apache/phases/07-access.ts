// Phase 7, access_checker (mod_access_compat): the legacy Order/Allow/Deny,
// read with Satisfy. `Satisfy Any` and an address that passes ends the checks
// here (no login asked); otherwise a refusal here is final and a pass goes on
// to authentication and Require (phase 8).

import { checkAccessCompat, satisfyOf } from "../authz.js";
import type { DirConf } from "../dirconf/types.js";
import * as fixText from "../fix-text.js";
import type { RequestRec } from "../request-rec.js";
import { allow, deny, type Outcome } from "./state.js";

/** The access answer, or null to go on to phase 8. */
export function accessPhase(conf: DirConf, rec: RequestRec): Outcome | null {
  const satisfy = satisfyOf(conf.access, rec.method);
  const access = checkAccessCompat(conf.access, rec);
  if (satisfy === "any" && access.ok)
    return allow(access.by?.ref ?? null, ["Satisfy Any: the host rules let it through without login"]);
  if (satisfy !== "any" && !access.ok) return accessDenied(conf, access.by ?? null, rec);
  return null;
}

const isIpRule = (from: string): boolean =>
  from.toLowerCase() !== "all" && !from.toLowerCase().startsWith("env=");

/** The refusal: an address allowlist (ip-restriction) or a blanket Deny (server-config), and where to fix it. */
function accessDenied(
  conf: DirConf,
  by: ReturnType<typeof checkAccessCompat>["by"],
  rec: RequestRec,
): Outcome {
  const client = rec.client ?? "<client address>";
  if (!by) return deny(403, null, "ip-restriction", []);
  const d = by.ref;
  // An address list anywhere in the Allow lines makes `Deny from all` the rest of an allowlist.
  const allowList = (conf.access?.allows ?? []).some((a) => isIpRule(a.from));
  if (d.directive.toLowerCase() === "order") {
    return deny(403, d, allowList ? "ip-restriction" : "server-config", [fixText.allowAfterOrder(d, client)]);
  }
  const from = "from" in by && by.from ? by.from : "";
  const limit = "owner" in by ? (by.limit ?? null) : null;
  const inSection = "owner" in by ? fixText.sectionOf(by.owner ?? null, limit) : "";
  const addressRule = isIpRule(from) || allowList;
  return deny(403, d, addressRule ? "ip-restriction" : "server-config", [
    addressRule
      ? fixText.denyMatchesClient(d, inSection, from, client)
      : fixText.denyRefusesEveryone(d, inSection, limit, rec.method),
  ]);
}
