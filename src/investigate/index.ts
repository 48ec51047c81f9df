// The live diagnosis engine behind `why403 curl`.
export { CLEAR_CONFIDENCE, investigate, isNotRefused } from "./investigate.js";
export type {
  Experiment,
  InvestigateOptions,
  LiveReport,
  ProbeContext,
  ProbeOutcome,
  ProbeSafety,
} from "./types.js";
