// Every experiment the investigation loop can choose from.

import type { Experiment } from "../investigate/types.js";
import { content } from "./content.js";
import { credentials } from "./credentials.js";
import { csrf } from "./csrf.js";
import { decoy } from "./decoy.js";
import { directory } from "./directory.js";
import { layerMap } from "./layer-map.js";
import { method } from "./method.js";
import { origin } from "./origin.js";
import { path } from "./path.js";
import { rateLimit } from "./rate-limit.js";
import { repeat } from "./repeat.js";

export { content, credentials, csrf, decoy, directory, layerMap, method, origin, path, rateLimit, repeat };

export const ALL_EXPERIMENTS: Experiment[] = [
  rateLimit,
  decoy,
  layerMap,
  directory,
  method,
  credentials,
  csrf,
  origin,
  path,
  content,
  repeat,
];
