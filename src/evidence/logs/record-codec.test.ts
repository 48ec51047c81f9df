// Records packed for the trip between threads must come back field for field,
// whatever the strings hold (multi-byte UTF-8, empty strings, one repeated).
import { describe, expect, it } from "vitest";
import { makeRecord } from "./record.js";
import { RecordPacker, unpackRecords } from "./record-codec.js";
import type { LogRecord } from "./types.js";

function sample(): LogRecord[] {
  const a = makeRecord({
    file: "/var/log/ünïcode/access.log",
    line: 3,
    format: "access-combined",
    kind: "access",
  });
  a.time = new Date(Date.UTC(2026, 0, 5, 10, 0, 0));
  a.status = 403;
  a.method = "POST";
  a.path = "/caf\u00e9/\u{1F600}?q=\u4e2d\u6587";
  a.client = "2001:db8::1";
  a.message = "";
  a.denied = true;
  const b = makeRecord({
    file: "/var/log/ünïcode/access.log",
    line: 4,
    format: "nginx-error",
    kind: "error",
  });
  b.ids = ["Zb00001", "req-\u00e9"];
  b.rules = ["942100", "949110"];
  b.ruleMessages = ["942100", "SQL Injection Attack Detected via libinjection \u2014 \u00fc", "949110", ""];
  b.alsoCauses = { "server-config": 2 };
  b.reason = "order-locked";
  b.detectionOnly = false;
  b.passedOn = true;
  b.statusInferred = true;
  b.strength = 3;
  b.cause = "ip-restriction";
  b.message = "access forbidden by rule \u00bb";
  const c = { ...b, line: 5, ids: [], rules: [], ruleMessages: undefined, detectionOnly: true };
  delete (c as Partial<LogRecord>).ruleMessages;
  return [a, b, c];
}

describe("record codec", () => {
  it("gives back the records it packed, lines moved by the offset", () => {
    const packer = new RecordPacker();
    const records = sample();
    for (const r of records) packer.add(r);
    const out = unpackRecords(packer.take(), 100);
    expect(out).toEqual(records.map((r) => ({ ...r, line: r.line + 100 })));
  });

  it("starts a fresh string table after take", () => {
    const packer = new RecordPacker();
    const [a, b] = sample() as [LogRecord, LogRecord];
    packer.add(a);
    packer.take();
    packer.add(b);
    packer.add(a);
    expect(unpackRecords(packer.take(), 0)).toEqual([b, a]);
  });
});
