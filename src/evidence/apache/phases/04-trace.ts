// Phase 4, map_to_storage (core): TRACE is answered by httpd's core before any
// access check — 405 with `TraceEnable Off` (the vhost's setting over the main
// server's), else the echo.

import { ref } from "../dirconf/types.js";
import * as fixText from "../fix-text.js";
import type { ApacheNode } from "../parser.js";
import type { ServerScope } from "../walk.js";
import { allow, deny, directives, type Outcome } from "./state.js";

export function traceAnswer(scope: ServerScope, method: string): Outcome | null {
  if (method !== "TRACE") return null;
  const last = (nodes: ApacheNode[]) => directives(nodes, "traceenable").at(-1);
  const d = (scope.vhost ? last(scope.vhost.children) : undefined) ?? last(scope.main);
  if (d && (d.args[0] ?? "").toLowerCase() === "off") {
    return deny(405, ref(d), "server-config", [fixText.traceOff(ref(d))]);
  }
  return allow(d ? ref(d) : null, [
    "httpd's core answers TRACE itself (an echo of the request) before access control",
  ]);
}
