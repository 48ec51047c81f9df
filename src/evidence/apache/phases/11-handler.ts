// Phase 11, the default handler for a file: a file missing on this machine is
// a 404 (noted, the access decision stands), and the body is read — a body
// larger than LimitRequestBody is refused with 413 once everything else lets
// the request through.

import { type ConfigRequest, requestBodyBytes } from "../../config-decision.js";
import type { DirConf } from "../dirconf/types.js";
import * as fixText from "../fix-text.js";
import { deny, type MappedWalk, type Outcome } from "./state.js";

export function fileHandler(request: ConfigRequest, w: MappedWalk, granted: Outcome): Outcome {
  if (w.mapped.diskKnown && !w.exists)
    return bodyLimit(request, w.conf, {
      ...granted,
      notes: [...granted.notes, `${w.mapped.filename} does not exist: httpd answers 404`],
    });
  return bodyLimit(request, w.conf, granted);
}

function bodyLimit(request: ConfigRequest, conf: DirConf, outcome: Outcome): Outcome {
  const limit = conf.limitRequestBody;
  const size = requestBodyBytes(request);
  if (outcome.decision !== "allow" || !limit || limit.value === 0 || size === null) return outcome;
  if (size <= limit.value) return outcome;
  return deny(413, limit.ref, "server-config", [fixText.bodyTooLarge(size, limit)]);
}
