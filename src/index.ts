// The library surface of why403.
export * from "./model.js";
export * from "./errors.js";
export { diagnoseRecording, exitCodeFor } from "./diagnose/recording.js";
export { investigate } from "./investigate/index.js";
export { parseCurlArgs, parseCurlCommandLine, formatCurl } from "./request/curl.js";
export { parseHar, selectHarEntry } from "./request/har.js";
export { exchangeFromRawResponse, parseRawResponses } from "./request/raw-response.js";
export { fingerprint } from "./fingerprint/match.js";
export { analyzeLogs, evidenceFromLogs } from "./evidence/logs/index.js";
export { parseNginxConfig, evaluateNginx } from "./evidence/nginx/index.js";
export { parseApacheConfig, evaluateApache } from "./evidence/apache/index.js";
export { reportSchema, logsReportSchema, configDecisionSchema } from "./report/schema.js";
