// Refused access lines built from bytes share their request's split and message
// across lines (a cache by request text): a later line with the same request
// and another status, or another request, still gets the record the access
// parser gives.
import { describe, expect, it } from "vitest";
import { accessRecordFromBytes, parseAccessLine } from "./access.js";
import { ACCESS_REFUSED, LinePrefilter } from "./prefilter.js";

function fromBytes(text: string) {
  const p = new LinePrefilter(false);
  const buf = Buffer.from(text);
  p.newChunk(buf);
  expect(p.accessCheck(buf, 0, buf.length)).toBe(ACCESS_REFUSED);
  return accessRecordFromBytes(buf, buf.length, p.refused, "f.log", 1);
}

describe("accessRecordFromBytes", () => {
  it("gives each line the parser's record when requests repeat with other statuses", () => {
    const line = (request: string, status: number) =>
      `10.0.0.1 - - [05/Jan/2026:00:00:00 +0000] "${request}" ${status} 12 "-" "curl/8"`;
    const lines = [
      line("POST /login HTTP/1.1", 403),
      line("POST /login HTTP/1.1", 401),
      line("POST /login HTTP/1.1", 403),
      line('GET /q?x=\\"a\\" HTTP/1.1', 429),
      line("GET /login HTTP/1.1", 403),
    ];
    const messages: string[] = [];
    for (const text of lines) {
      const rec = fromBytes(text);
      expect(rec).toEqual(parseAccessLine(text, "f.log", 1, rec?.format ?? ""));
      messages.push(rec?.message ?? "");
    }
    expect(messages).toEqual([
      "POST /login HTTP/1.1 → 403",
      "POST /login HTTP/1.1 → 401",
      "POST /login HTTP/1.1 → 403",
      'GET /q?x=\\"a\\" HTTP/1.1 → 429',
      "GET /login HTTP/1.1 → 403",
    ]);
  });
});
