export { evaluateNginx, type NginxDecision } from "./evaluate.js";
export { nginxEvidence } from "./evidence.js";
export { type Token, tokenize } from "./lexer.js";
export {
  type Directive,
  type NginxConfig,
  type ParseOptions,
  parseNginxConfig,
  parseNginxText,
  walkDirectives,
} from "./parser.js";
export { MAX_NGINX_CONFIG_FILE_BYTES } from "./read-file.js";
