// The live diagnosis engine behind `why403 curl`.
export {
  CLEAR_CONFIDENCE,
  type Investigation,
  investigate,
  investigateWithFacts,
  isNotRefused,
} from "./investigate.js";
export type {
  Experiment,
  Facts,
  InvestigateOptions,
  LiveReport,
  ProbeContext,
  ProbeOutcome,
  ProbeSafety,
} from "./types.js";
