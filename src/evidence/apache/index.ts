export { type EvaluateOptions, evaluateApache, normalizePath } from "./evaluate.js";
export { apacheEvidence } from "./evidence.js";
export {
  type ApacheConfig,
  type ApacheDirective,
  type ApacheNode,
  type ApacheSection,
  type ParseOptions,
  parseApacheConfig,
  parseApacheText,
  parseHtaccess,
} from "./parser.js";
