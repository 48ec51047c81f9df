// The library surface of why403.

// For the benchmarks (bench/): the delta-debugging search and the embedded demo lab.
export { type MinimizeResult, minimizeRequest } from "./delta/minimize.js";
export { type DemoLab, startDemoLab } from "./demo/demo-servers.js";
export {
  type DiagnoseInput,
  type DiagnoseOptions,
  diagnose,
  diagnoseRecording,
  exitCodeFor,
} from "./diagnose/index.js";
export * from "./errors.js";
export { evaluateApache, parseApacheConfig } from "./evidence/apache/index.js";
export { analyzeLogs, evidenceFromLogs } from "./evidence/logs/index.js";
export { evaluateNginx, parseNginxConfig } from "./evidence/nginx/index.js";
export { fingerprint } from "./fingerprint/match.js";
export { investigate } from "./investigate/index.js";
export * from "./model.js";
export { configDecisionSchema, logsReportSchema, reportSchema } from "./report/schema.js";
export { formatCurl, parseCurlArgs, parseCurlCommandLine } from "./request/curl.js";
export { parseHar, selectHarEntry } from "./request/har.js";
export { exchangeFromRawResponse, parseRawResponses } from "./request/raw-response.js";
// For the generated-space bench: the calibration map applied to a freshly fitted knot list.
export { interpolateKnots } from "./verdict/calibration.js";
export { calibratedRanking } from "./verdict/decide.js";
