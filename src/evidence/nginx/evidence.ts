// Turns an nginx config decision into evidence for the verdict: a refusal the
// config explains speaks strongly for its cause; a config that lets the
// request through speaks against the causes nginx itself would stand for.

import type { CauseId, Evidence } from "../../model.js";
import type { ConfigDecision } from "../config-decision.js";

const DECISIVE = 5;

export function nginxEvidence(decision: ConfigDecision): Evidence[] {
  const { method, url } = decision.request;
  const d = decision.decidedBy;
  const source = d ? `${d.file}:${d.line}` : "nginx config";
  const what = d ? `\`${[d.directive, ...d.args].join(" ")}\` at ${d.file}:${d.line}` : "the nginx config";
  if (decision.decision === "deny") {
    const cause = (decision.cause ?? "server-config") as CauseId;
    return [
      {
        source,
        fact: `${what} refuses ${method} ${url} with ${decision.status ?? 403} per the nginx config`,
        weights: { [cause]: DECISIVE },
        data: {
          product: "nginx",
          status: decision.status,
          fix: decision.fix,
          context: decision.context,
          ...(decision.request.client ? { client: decision.request.client } : {}),
        },
      },
    ];
  }
  if (decision.decision === "allow") {
    return [
      {
        source,
        fact: `the nginx config lets ${method} ${url} through${decision.status ? ` (it would answer ${decision.status})` : ""}`,
        weights: { "ip-restriction": -2, "server-config": -1, "credentials-invalid": -1 },
        data: { product: "nginx", status: decision.status },
      },
    ];
  }
  return [
    {
      source,
      fact: `the nginx config cannot decide ${method} ${url} alone: ${decision.unknowns.join("; ")}`,
      weights: {},
      data: { product: "nginx", unknowns: decision.unknowns },
    },
  ];
}
