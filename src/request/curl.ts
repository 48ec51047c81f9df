// A curl command line → RequestModel and back. Our own parser (curlconverter
// pulls in tree-sitter wasm and slows start-up); it covers what browsers'
// "Copy as cURL" and people at a terminal write, and refuses by name any
// option whose effect it cannot reproduce, so a replay never silently differs
// from curl. The parts live in curl/: options.ts (the option table), body.ts
// (-d, --data-urlencode, --json, -F), headers.ts, cookie-file.ts, parse.ts
// (shell words, reading the options, building the request), format.ts.

export { formatCurl, shellQuote } from "./curl/format.js";
export { CURL_USER_AGENT, parseCurlArgs, parseCurlCommandLine } from "./curl/parse.js";
