import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../errors.js";
import { looksBinary, readInputFile } from "./read-input.js";

const dir = mkdtempSync(join(tmpdir(), "why403-read-input-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectInputError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).toMatch(pattern);
    expect(msg).not.toContain("\n");
    return;
  }
  throw new Error("expected an InputError");
}

describe("readInputFile", () => {
  it("reads a file", () => {
    const p = join(dir, "ok.txt");
    writeFileSync(p, "HTTP/1.1 403 Forbidden\r\n\r\n");
    expect(readInputFile(p, "response file").toString()).toContain("403");
  });

  it("names a missing file", () => {
    expectInputError(
      () => readInputFile(join(dir, "nope.har"), "HAR file"),
      /HAR file .*nope\.har does not exist/,
    );
  });

  it("refuses a directory", () => {
    expectInputError(() => readInputFile(dir, "HAR file"), /is a directory/);
  });

  it("refuses an empty file", () => {
    const p = join(dir, "empty.txt");
    writeFileSync(p, "");
    expectInputError(() => readInputFile(p, "response file"), /is empty/);
  });

  it("refuses a file over the cap, naming size and cap", () => {
    const p = join(dir, "big.txt");
    writeFileSync(p, "x".repeat(3000));
    expectInputError(
      () => readInputFile(p, "HAR file", 1024),
      /too large \(2\.9 KiB; the limit is 1\.0 KiB\)/,
    );
  });

  it("reports permission denied", () => {
    const p = join(dir, "secret.txt");
    writeFileSync(p, "x");
    chmodSync(p, 0o000);
    // root reads anyway; only assert the message when the OS refuses
    try {
      readInputFile(p, "log file");
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toMatch(/permission denied/);
    }
  });

  it("a path through a file is reported as missing", () => {
    const p = join(dir, "ok.txt", "child");
    expectInputError(() => readInputFile(p, "HAR file"), /does not exist/);
  });
});

describe("looksBinary", () => {
  it("text is not binary", () => {
    expect(looksBinary(Buffer.from("HTTP/1.1 200 OK\r\nA: b\r\n\r\n\u001b[1mhello\tworld"))).toBe(false);
    expect(looksBinary(Buffer.alloc(0))).toBe(false);
  });
  it("NUL bytes are binary", () => {
    expect(looksBinary(Buffer.from([0x48, 0x00, 0x54]))).toBe(true);
  });
  it("many control bytes are binary", () => {
    const b = Buffer.alloc(100, 0x41);
    for (let i = 0; i < 20; i++) b[i * 5] = 0x01;
    expect(looksBinary(b)).toBe(true);
  });
  it("gzip data is binary", () => {
    expect(looksBinary(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00]))).toBe(true);
  });
});

describe("readInputFile on devices", () => {
  it("reads /dev/zero only up to the cap", () => {
    expectInputError(() => readInputFile("/dev/zero", "data file", 100_000), /too large/);
  });
  it("/dev/null is empty", () => {
    expectInputError(() => readInputFile("/dev/null", "data file"), /is empty/);
  });
});
