// A linear, non-recursive check of JSON nesting depth, so recursive walkers
// (delta trees, evidence, redaction) can refuse a body nested 10,000 deep
// before they overflow the stack.

import { MAX_JSON_DEPTH } from "./limits.js";

/** True when brackets outside strings nest deeper than `max`. Works on any text, JSON or not. */
export function jsonTooDeep(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b /* { [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d /* } ] */) depth--;
  }
  return false;
}
