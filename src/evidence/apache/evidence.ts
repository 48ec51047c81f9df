// Turns an Apache config decision into evidence for the verdict: a refusal
// the config explains speaks strongly for its cause; a config that lets the
// request through speaks against the causes httpd itself would stand for.

import type { CauseId, Evidence } from "../../model.js";
import type { ConfigDecision } from "../config-decision.js";

const DECISIVE = 5;

export function apacheEvidence(decision: ConfigDecision): Evidence[] {
  const { method, url } = decision.request;
  const d = decision.decidedBy;
  const source = d ? `${d.file}:${d.line}` : "apache config";
  const what = d ? `\`${[d.directive, ...d.args].join(" ")}\` at ${d.file}:${d.line}` : "the Apache config";
  const data = {
    product: "apache",
    status: decision.status,
    fix: decision.fix,
    context: decision.context,
    unknowns: decision.unknowns,
    ...(decision.request.client ? { client: decision.request.client } : {}),
  };
  const waf = decision.unknowns.some((u) => u.startsWith("ModSecurity is active"));
  const out: Evidence[] = [];
  if (decision.decision === "deny") {
    const cause = (decision.cause ?? "server-config") as CauseId;
    out.push({
      source,
      fact: `${what} refuses ${method} ${url} with ${decision.status ?? 403} per the Apache config`,
      weights: { [cause]: DECISIVE },
      data,
    });
  } else if (decision.decision === "allow") {
    out.push({
      source,
      fact: `the Apache config lets ${method} ${url} through${decision.status ? ` (it would answer ${decision.status})` : ""}`,
      weights: { "ip-restriction": -2, "server-config": -1, "credentials-invalid": -1 },
      data,
    });
  } else {
    out.push({
      source,
      fact: `the Apache config cannot decide ${method} ${url} alone: ${decision.unknowns.join("; ")}`,
      weights: {},
      data,
    });
  }
  if (waf) {
    out.push({
      source: "apache config",
      fact: "ModSecurity is enabled for this location, so a content-based refusal is possible",
      weights: { waf: decision.decision === "allow" ? 1 : 0.5 },
      data: { product: "modsecurity" },
    });
  }
  return out;
}
