// -H as curl reads it ("Name: value", "Name:" to suppress, "Name;" for an
// empty value) and the rule that no header value may carry a line break.

import { InputError } from "../../errors.js";
import type { Header } from "../../model.js";
import { clip, firstWord, type ParseState } from "./state.js";

export function addHeader(st: ParseState, value: string): void {
  if (value.startsWith("@")) {
    throw new InputError("curl -H @file (headers from a file) is not supported; pass each header with -H");
  }
  const colon = value.indexOf(":");
  if (colon > 0) {
    const name = value.slice(0, colon).trim();
    const v = value.slice(colon + 1).trim();
    if (v === "") {
      // "Name:" tells curl not to send that header at all.
      st.suppressed.add(name.toLowerCase());
      return;
    }
    st.headers.push([name, v]);
    return;
  }
  if (/^[^;\s]+;\s*$/.test(value)) {
    // "Name;" sends the header with an empty value.
    st.headers.push([value.slice(0, value.indexOf(";")), ""]);
    return;
  }
  // Only the first word: a malformed header may still carry a secret.
  throw new InputError(`invalid curl header starting "${firstWord(value)}" (expected "Name: value")`);
}

export function hasHeader(headers: Header[], name: string): boolean {
  const lower = name.toLowerCase();
  return headers.some(([n]) => n.toLowerCase() === lower);
}

/**
 * A raw CR or LF in a header value would make curl write two header lines
 * (the second one forged); no replay can send that, so the line is refused
 * here, naming the header but never its value (it may be a secret).
 */
export function refuseLineBreaks(headers: Header[]): void {
  for (const [name, value] of headers) {
    if (/[\r\n\0]/.test(value)) {
      throw new InputError(
        `the ${clip(name, 40)} header has a raw line break in its value; curl would send it as two header lines. Remove the line break from that value`,
      );
    }
  }
}
