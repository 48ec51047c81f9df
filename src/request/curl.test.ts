import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../errors.js";
import { CURL_USER_AGENT, formatCurl, parseCurlArgs, parseCurlCommandLine } from "./curl.js";
import { splitCommandLine } from "./shell-words.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/curl/${name}`, import.meta.url), "utf8");

const dir = mkdtempSync(join(tmpdir(), "why403-curl-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectInputError(fn: () => unknown, pattern: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(InputError);
  expect((thrown as Error).message).toMatch(pattern);
  expect((thrown as Error).message).not.toContain("\n");
}

/** The headers a line set itself, without curl's own defaults (tested separately). */
function noDefaults(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.filter(
    ([n, v]) => !((n === "User-Agent" && v === CURL_USER_AGENT) || (n === "Accept" && v === "*/*")),
  );
}

describe("browser Copy as cURL", () => {
  it("Chrome bash, JSON body with -b cookies", () => {
    const r = parseCurlCommandLine(fixture("chrome-bash-json.txt"));
    expect(r.method).toBe("POST");
    expect(r.url).toBe("https://shop.example.com/api/cart/items");
    expect(r.body?.toString()).toBe('{"sku":"A-100","qty":2,"note":"gift wrap"}');
    expect(noDefaults(r.headers)).toEqual([
      ["accept", "application/json, text/plain, */*"],
      ["accept-language", "en-US,en;q=0.9,de;q=0.8"],
      ["content-type", "application/json"],
      ["origin", "https://shop.example.com"],
      ["priority", "u=1, i"],
      ["referer", "https://shop.example.com/cart"],
      ["sec-ch-ua", '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'],
      ["sec-ch-ua-mobile", "?0"],
      ["sec-ch-ua-platform", '"Linux"'],
      ["sec-fetch-dest", "empty"],
      ["sec-fetch-mode", "cors"],
      ["sec-fetch-site", "same-origin"],
      [
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
      ],
      ["x-csrftoken", "Tk3nV4lue"],
      ["Cookie", "sessionid=s3ss10n; csrftoken=Tk3nV4lue"],
    ]);
    expect(r.options).toEqual({});
  });

  it("Chrome bash with $'…' ANSI-C body", () => {
    const r = parseCurlCommandLine(fixture("chrome-bash-ansi-c.txt"));
    expect(r.method).toBe("POST");
    expect(r.url).toBe("https://blog.example.org/wp-comments-post.php");
    expect(r.body?.toString("utf8")).toBe(
      "comment=It's \u201cgreat\u201d café!\nLine two&author=O'Brien&email=ob%40example.org",
    );
    expect(r.headers.map(([n]) => n)).toEqual([
      "accept",
      "cache-control",
      "content-type",
      "cookie",
      "origin",
      "referer",
      "upgrade-insecure-requests",
      "user-agent",
    ]);
    expect(r.headers[3]).toEqual(["cookie", "wordpress_test_cookie=WP%20Cookie%20check"]);
    expect(r.options.compressed).toBe(true);
  });

  it("Chrome cmd with ^ escapes and CRLF continuations", () => {
    const r = parseCurlCommandLine(fixture("chrome-cmd-json.txt"));
    expect(r.method).toBe("POST");
    expect(r.url).toBe("https://shop.example.com/api/cart/items?ref=mail&step=2");
    expect(r.body?.toString()).toBe('{"sku":"A-100","path":"C:\\\\tmp","pct":"50%","q":"%USERPROFILE%"}');
    expect(noDefaults(r.headers)).toEqual([
      ["accept", "application/json, text/plain, */*"],
      ["content-type", "application/json"],
      ["origin", "https://shop.example.com"],
      ["sec-ch-ua", '"Chromium";v="124", "Google Chrome";v="124"'],
      [
        "user-agent",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
      ],
      ["Cookie", "sessionid=s3ss10n; csrftoken=Tk3nV4lue"],
    ]);
  });

  it("Firefox single line with -X POST and --compressed", () => {
    const r = parseCurlCommandLine(fixture("firefox-bash-form.txt"));
    expect(r.method).toBe("POST");
    expect(r.options).toEqual({ compressed: true, explicitMethod: true });
    expect(r.url).toBe("https://app.example.net/accounts/login/?next=/dashboard/");
    expect(r.body?.toString()).toBe("csrfmiddlewaretoken=Abc123&username=alice&password=p%40ss");
    expect(r.headers).toHaveLength(15);
    expect(r.headers[0]).toEqual([
      "User-Agent",
      "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ]);
    expect(r.headers.find(([n]) => n === "Cookie")).toEqual(["Cookie", "csrftoken=Abc123; sessionid=zz9"]);
    expect(r.headers.at(-1)).toEqual(["Priority", "u=0, i"]);
  });

  it("terminal line: comment, combined flags, attached values, '\\'' quoting", () => {
    const r = parseCurlCommandLine(fixture("terminal-multiline.txt"));
    expect(r.method).toBe("PUT");
    expect(r.url).toBe("https://api.example.com/v1/items/42?dry_run=1");
    expect(r.body?.toString()).toBe('{"name": "it\'s \\"quoted\\""}');
    expect(noDefaults(r.headers)).toEqual([
      ["Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"],
      ["Content-Type", "application/json"],
    ]);
    expect(r.options).toEqual({
      followRedirects: true,
      explicitMethod: true,
      timeoutMs: 7500,
      insecure: true,
    });
  });
});

describe("shell word splitting", () => {
  it("bash quoting forms", () => {
    expect(splitCommandLine(`curl "a b" 'c d' e\\ f "x\\"y" $'t\\tu' "$HOME"`, "bash")).toEqual([
      "curl",
      "a b",
      "c d",
      "e f",
      'x"y',
      "t\tu",
      "$HOME",
    ]);
  });
  it("$'…' escapes: octal, \\x, \\u, \\c, unknown", () => {
    expect(splitCommandLine(`$'\\101\\x42\\u0043\\cA\\q'`, "bash")).toEqual(["ABC\u0001\\q"]);
    expect(splitCommandLine(`$'\\xc3\\xa9'`, "bash")).toEqual(["é"]); // valid UTF-8 bytes stay bytes
  });
  it("a trailing ; or & is dropped; pipes are refused", () => {
    expect(splitCommandLine("curl https://x ;\n", "bash")).toEqual(["curl", "https://x"]);
    expectInputError(() => splitCommandLine("curl https://x | jq .", "bash"), /shell operator '\|'/);
    expectInputError(() => splitCommandLine("curl a ; curl b", "bash"), /shell operator ';'/);
    expectInputError(() => splitCommandLine("curl a && curl b", "bash"), /'&&'/);
  });
  it("unterminated quotes", () => {
    expectInputError(() => parseCurlCommandLine("curl 'https://x"), /unterminated quote \('\)/);
    expectInputError(() => parseCurlCommandLine('curl "https://x'), /unterminated quote \("\)/);
    expectInputError(() => parseCurlCommandLine("curl $'abc"), /unterminated quote/);
    expectInputError(() => parseCurlCommandLine('curl ^"https://x'), /unterminated quote/);
  });
  it('older Chrome cmd style with plain quotes and ""', () => {
    expect(splitCommandLine('curl "https://x/" -H "A: ""q""" ^\r\n --data "a=1"%"2"', "cmd")).toEqual([
      "curl",
      "https://x/",
      "-H",
      'A: "q"',
      "--data",
      "a=1%2",
    ]);
  });
  it("cmd literal newline encoding ^ + two line breaks", () => {
    expect(splitCommandLine('curl ^"a^\n\nb^"', "cmd")).toEqual(["curl", "a\nb"]);
  });
});

describe("parseCurlArgs options", () => {
  it("defaults to GET with no body", () => {
    const r = parseCurlArgs(["https://x.test/a"]);
    expect({ ...r, headers: noDefaults(r.headers) }).toEqual({
      method: "GET",
      url: "https://x.test/a",
      headers: [],
      body: null,
      options: {},
    });
  });
  it("adds curl's own User-Agent and Accept unless the line sets or suppresses them", () => {
    expect(parseCurlArgs(["https://x.test/a"]).headers).toEqual([
      ["User-Agent", CURL_USER_AGENT],
      ["Accept", "*/*"],
    ]);
    expect(parseCurlArgs(["-H", "User-Agent:", "-H", "Accept:", "https://x.test/a"]).headers).toEqual([]);
    expect(parseCurlArgs(["-A", "x/1", "-H", "accept: text/html", "https://x.test/a"]).headers).toEqual([
      ["accept", "text/html"],
      ["User-Agent", "x/1"],
    ]);
  });
  it("adds http:// when the scheme is missing", () => {
    expect(parseCurlArgs(["x.test:8080/a"]).url).toBe("http://x.test:8080/a");
  });
  it("joins several -d with & and sets the form content type", () => {
    const r = parseCurlArgs(["-d", "a=1", "--data", "b=2", "--data-raw", "@c", "https://x.test/"]);
    expect(r.method).toBe("POST");
    expect(r.body?.toString()).toBe("a=1&b=2&@c");
    expect(noDefaults(r.headers)).toEqual([["Content-Type", "application/x-www-form-urlencoded"]]);
  });
  it("-d @file strips line breaks, --data-binary keeps them", () => {
    const p = join(dir, "body.txt");
    writeFileSync(p, "a=1\r\nb=2\n");
    expect(parseCurlArgs(["-d", `@${p}`, "http://x"]).body?.toString()).toBe("a=1b=2");
    expect(parseCurlArgs(["--data-binary", `@${p}`, "http://x"]).body?.toString()).toBe("a=1\r\nb=2\n");
    // curl 7.88: "Couldn't read data from file …, this makes an empty POST" — and sends it.
    const missing = parseCurlArgs(["-d", "@/nonexistent/file", "http://x"]);
    expect([missing.method, missing.body?.length]).toEqual(["POST", 0]);
  });
  it("--data-urlencode forms", () => {
    const r = parseCurlArgs([
      "--data-urlencode",
      "q=a b&c",
      "--data-urlencode",
      "=x/y",
      "--data-urlencode",
      "plain text",
      "http://x",
    ]);
    // curl 7.88 writes a space as "+" here (checked with the real binary).
    expect(r.body?.toString()).toBe("q=a+b%26c&x%2Fy&plain+text");
  });
  it("--json sets content type and accept", () => {
    const r = parseCurlArgs(["--json", '{"a":1}', "http://x"]);
    expect(r.method).toBe("POST");
    expect(noDefaults(r.headers)).toEqual([
      ["Content-Type", "application/json"],
      ["Accept", "application/json"],
    ]);
  });
  it("-G moves the data to the query", () => {
    const r = parseCurlArgs(["-G", "-d", "q=1", "-d", "r=2", "http://x/s?a=0"]);
    expect(r.method).toBe("GET");
    expect(r.url).toBe("http://x/s?a=0&q=1&r=2");
    expect(r.body).toBeNull();
    expect(noDefaults(r.headers)).toEqual([]);
  });
  it("-I is HEAD; -I with -d is refused", () => {
    const r = parseCurlArgs(["-I", "http://x"]);
    expect(r.method).toBe("HEAD");
    expect(r.options.headOnly).toBe(true);
    expectInputError(
      () => parseCurlArgs(["-I", "-d", "a", "http://x"]),
      /^curl refuses this line: You can only select one HTTP request method! You asked for both POST \(-d, --data\) and HEAD \(-I, --head\)\.$/,
    );
  });
  it("-u, -A, -e, -b and header precedence", () => {
    const r = parseCurlArgs([
      "-u",
      "al:pw",
      "-A",
      "agent/1",
      "-e",
      "http://r/;auto",
      "-b",
      "a=1",
      "-b",
      "b=2",
      "http://x",
    ]);
    expect(noDefaults(r.headers)).toEqual([
      ["Authorization", `Basic ${Buffer.from("al:pw").toString("base64")}`],
      ["User-Agent", "agent/1"],
      ["Referer", "http://r/"],
      ["Cookie", "a=1; b=2"],
    ]);
    const r2 = parseCurlArgs(["-u", "al:pw", "-H", "authorization: Token t", "http://x"]);
    expect(noDefaults(r2.headers)).toEqual([["authorization", "Token t"]]);
    expectInputError(() => parseCurlArgs(["-u", "al", "http://x"]), /password/);
  });
  it("-b without '=' names a cookie file; a missing one is skipped as curl skips it", () => {
    const r = parseCurlArgs(["-b", join(dir, "no-such-cookies.txt"), "http://x"]);
    expect(r.headers.some(([n]) => n === "Cookie")).toBe(false);
  });
  it("header forms: 'Name:' suppresses, 'Name;' is empty, @file refused", () => {
    const r = parseCurlArgs(["-H", "X-Empty;", "-H", "Content-Type:", "-d", "a", "http://x"]);
    expect(noDefaults(r.headers)).toEqual([["X-Empty", ""]]);
    expectInputError(() => parseCurlArgs(["-H", "@headers.txt", "http://x"]), /-H @file/);
    expectInputError(
      () => parseCurlArgs(["-H", "nonsense", "http://x"]),
      /invalid curl header starting "nonsense"/,
    );
  });
  it("-F builds a multipart body", () => {
    const p = join(dir, "up.txt");
    writeFileSync(p, "file-content");
    const r = parseCurlArgs([
      "-F",
      "title=hello",
      "-F",
      `doc=@${p};type=text/x-plain`,
      "-F",
      `note=<${p}`,
      "http://x/up",
    ]);
    expect(r.method).toBe("POST");
    const ct = r.headers.find(([n]) => n === "Content-Type")?.[1] ?? "";
    const boundary = /boundary=(.+)$/.exec(ct)?.[1];
    expect(boundary).toBeTruthy();
    expect(r.body?.toString()).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="doc"; filename="up.txt"\r\nContent-Type: text/x-plain\r\n\r\nfile-content\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nfile-content\r\n` +
        `--${boundary}--\r\n`,
    );
  });
  it("transport options and ignored output options", () => {
    const r = parseCurlArgs([
      "-sSfLkv",
      "--compressed",
      "-x",
      "http://127.0.0.1:3128",
      "-m",
      "2",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--http1.1",
      "--tlsv1.2",
      "--globoff",
      "--no-progress-meter",
      "--url",
      "https://x/",
    ]);
    expect(r.options).toEqual({
      followRedirects: true,
      insecure: true,
      compressed: true,
      proxy: "http://127.0.0.1:3128",
      timeoutMs: 2000,
    });
  });
  it("-XPOST attached, --request=DELETE is unknown to curl, -- ends options", () => {
    expect(parseCurlArgs(["-XPOST", "http://x"]).method).toBe("POST");
    expectInputError(
      () => parseCurlArgs(["--request=DELETE", "http://x"]),
      /^curl refuses this line: option --request=DELETE: is unknown$/,
    );
    expect(parseCurlArgs(["--", "-weird.example"]).url).toBe("http://-weird.example");
  });
  it("errors name the problem", () => {
    expectInputError(() => parseCurlArgs(["--config", "x", "http://x"]), /unsupported curl option --config/);
    expectInputError(
      () => parseCurlArgs(["--frobnicate", "http://x"]),
      /^curl refuses this line: option --frobnicate: is unknown$/,
    );
    expectInputError(() => parseCurlArgs(["-Y", "http://x"]), /unsupported curl option -Y/);
    expectInputError(() => parseCurlArgs(["-H"]), /-H needs a value/);
    expectInputError(() => parseCurlArgs(["-s"]), /no URL/);
    expectInputError(() => parseCurlArgs(["http://a", "http://b"]), /2 URLs/);
    expectInputError(() => parseCurlArgs(["ftp://a"]), /scheme ftp:/);
    expectInputError(() => parseCurlArgs(["--digest", "-u", "a:b", "http://a"]), /--digest/);
    expectInputError(() => parseCurlArgs(["-m", "soon", "http://a"]), /seconds/);
    expectInputError(() => parseCurlCommandLine("wget http://x"), /not a curl command/);
    expectInputError(() => parseCurlCommandLine("Invoke-WebRequest -Uri x"), /PowerShell/);
  });
  it("accepts curl.exe and a path to curl", () => {
    expect(parseCurlCommandLine("curl.exe https://x/").url).toBe("https://x/");
    expect(parseCurlCommandLine("/usr/bin/curl https://x/").url).toBe("https://x/");
  });
});

describe("formatCurl", () => {
  it("round-trips the browser fixtures", () => {
    for (const name of [
      "chrome-bash-json.txt",
      "chrome-bash-ansi-c.txt",
      "chrome-cmd-json.txt",
      "firefox-bash-form.txt",
    ]) {
      const r = parseCurlCommandLine(fixture(name));
      const again = parseCurlCommandLine(formatCurl(r));
      expect(again.method).toBe(r.method);
      expect(again.url).toBe(r.url);
      expect(again.headers).toEqual(r.headers);
      expect(again.body?.equals(r.body!)).toBe(true);
      expect(again.options.compressed).toBe(r.options.compressed);
    }
  });
  it("renders method, body and options", () => {
    const text = formatCurl({
      method: "PUT",
      url: "https://x/a?b=1&c=2",
      headers: [["X-Q", "it's"]],
      body: Buffer.from("line1\nline2"),
      options: { insecure: true, timeoutMs: 1500 },
    });
    expect(text).toBe(
      "curl 'https://x/a?b=1&c=2' \\\n  -X PUT \\\n  -H 'X-Q: it'\\''s' \\\n  --data-raw $'line1\\nline2' \\\n  -k \\\n  --max-time 1.5",
    );
    expect(formatCurl({ method: "GET", url: "https://x/", headers: [], body: null, options: {} })).toBe(
      "curl https://x/",
    );
  });
  it("a body starting with @ is not read as a file on replay", () => {
    const r = parseCurlCommandLine(
      formatCurl({ method: "POST", url: "http://x/", headers: [], body: Buffer.from("@etc"), options: {} }),
    );
    expect(r.body?.toString()).toBe("@etc");
  });
});

describe("Chrome cmd variant with plain outer quotes", () => {
  it("decodes caret escapes inside plain quotes", () => {
    const text =
      'curl "https://x.test/api?a=1&b=2" ^\r\n  -H "content-type: application/json" ^\r\n  --data-raw "^{^\\^"a^\\^":^\\^"x y^\\^"^}"';
    const r = parseCurlCommandLine(text);
    expect(r.url).toBe("https://x.test/api?a=1&b=2");
    expect(r.body?.toString()).toBe('{"a":"x y"}');
  });
});

describe("Firefox $'…' escapes", () => {
  it("\\xHH for Latin-1 characters and surrogate-pair \\u escapes", () => {
    const r = parseCurlCommandLine(
      "curl 'https://x/' --data-raw $'caf\\xe9 \\ud83d\\ude00 \\u201cok\\u201d'",
    );
    expect(r.body?.toString("utf8")).toBe("café 😀 “ok”");
  });
});

describe("error messages do not echo secrets", () => {
  it("a malformed Authorization header shows only its first word", () => {
    expectInputError(
      () => parseCurlArgs(["-H", "Authorization Bearer s3cr3tT0ken", "http://x"]),
      /"Authorization"/,
    );
    try {
      parseCurlArgs(["-H", "Authorization Bearer s3cr3tT0ken", "http://x"]);
    } catch (e) {
      expect((e as Error).message).not.toContain("s3cr3t");
    }
  });
  it("an invalid URL has its secrets redacted", () => {
    try {
      parseCurlArgs(["http://user:hunter2@exa mple.com/?token=abcdef123456"]);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).not.toContain("hunter2");
      expect((e as Error).message).not.toContain("abcdef123456");
    }
  });
});

describe("curl's own option parser (each case checked against curl 7.88.1)", () => {
  it("a long option may be shortened to a prefix only one option has", () => {
    const r = parseCurlArgs(["--sil", "--insec", "--jso", "{}", "http://x"]);
    expect([r.options.insecure, r.method, r.body?.toString()]).toEqual([true, "POST", "{}"]);
    expectInputError(() => parseCurlArgs(["--dat", "a", "http://x"]), /option --dat: is ambiguous$/);
    expectInputError(() => parseCurlArgs(["--compr", "http://x"]), /option --compr: is ambiguous$/);
  });
  it("an ambiguous prefix, --name=value and --no- on a non-boolean are refused with curl's words", () => {
    expectInputError(
      () => parseCurlArgs(["--s", "http://x"]),
      /^curl refuses this line: option --s: is ambiguous$/,
    );
    expectInputError(
      () => parseCurlArgs(["--data-b", "x", "--no-sil", "http://x"]),
      /^curl refuses this line: option --no-sil: is unknown$/,
    );
    expectInputError(
      () => parseCurlArgs(["--no-data", "x", "http://x"]),
      /^curl refuses this line: option --no-data: used '--no-' for option that isn't a boolean$/,
    );
  });
  it("an exact name wins over longer ones it prefixes (--data, --compressed)", () => {
    const r = parseCurlArgs(["--data", "a", "--compressed", "http://x"]);
    expect([r.body?.toString(), r.options.compressed]).toEqual(["a", true]);
  });
  it("--no-location turns -L off; --no-buffer is accepted", () => {
    const r = parseCurlArgs(["-L", "--no-location", "--no-buffer", "http://x"]);
    expect(r.options.followRedirects).toBe(false);
  });

  // What curl 7.88.1 did with each pair of -d, -F, -T, -I, -G, --json (both orders).
  const req = (...flags: string[]) => {
    const argv: string[] = [];
    const upload = join(dir, "up.txt");
    writeFileSync(upload, "hi\n");
    for (const f of flags) {
      if (f === "d") argv.push("-d", "a=b");
      else if (f === "F") argv.push("-F", "x=y");
      else if (f === "T") argv.push("-T", upload);
      else if (f === "j") argv.push("--json", "{}");
      else argv.push(`-${f}`);
    }
    return parseCurlArgs([...argv, "http://127.0.0.1/x"]);
  };
  const both = (a: string, b: string) =>
    new RegExp(
      `^curl refuses this line: You can only select one HTTP request method! You asked for both ${a} and ${b}\\.$`,
    );
  const POST = "POST \\(-d, --data\\)";
  const PUT = "PUT \\(-T, --upload-file\\)";
  const MIME = "multipart formpost \\(-F, --form\\)";
  const HEAD = "HEAD \\(-I, --head\\)";
  const GET = "GET \\(-G, --get\\)";
  it.each([
    ["d", "F", both(POST, MIME)],
    ["F", "d", both(POST, MIME)],
    ["d", "T", both(PUT, POST)],
    ["T", "d", both(PUT, POST)],
    ["j", "T", both(PUT, POST)],
    ["T", "F", both(PUT, MIME)],
    ["I", "d", both(POST, HEAD)],
    ["I", "T", both(PUT, HEAD)],
    ["I", "F", both(MIME, HEAD)],
    ["F", "I", both(HEAD, MIME)],
    ["G", "F", null],
  ])("-%s with -%s is refused as curl refuses it", (a, b, message) => {
    if (message === null) {
      // -G without data changes nothing: -F still posts.
      expect(req(a, b).method).toBe("POST");
      expectInputError(() => req("G", "F", "d"), both(GET, MIME));
      return;
    }
    expectInputError(() => req(a, b), message);
  });
  it("the pairs curl accepts send what curl sent", () => {
    expect([req("d", "G").method, req("d", "G").url]).toEqual(["GET", "http://127.0.0.1/x?a=b"]);
    expect([req("G", "d", "I").method, req("G", "d", "I").url]).toEqual(["HEAD", "http://127.0.0.1/x?a=b"]);
    expect(req("T", "G").method).toBe("PUT");
    expect(req("j", "G").url).toBe("http://127.0.0.1/x?{}");
    const dj = req("d", "j");
    expect([dj.method, dj.body?.toString()]).toEqual(["POST", "a=b{}"]);
    const tx = parseCurlArgs(["-T", join(dir, "up.txt"), "-X", "POST", "http://127.0.0.1/x"]);
    expect([tx.method, tx.body?.toString()]).toEqual(["POST", "hi\n"]);
  });

  it("--url-query: encoded like --data-urlencode (lower-case escapes), '+' appends as is; -G data replaces it", () => {
    const f = join(dir, "q.txt");
    writeFileSync(f, "x*y z\n");
    const r = parseCurlArgs([
      "--url-query",
      "q=x y",
      "--url-query",
      "+r=%41",
      "--url-query",
      `n@${f}`,
      "--url-query",
      "=z z",
      "--url-query",
      "plain w",
      "http://127.0.0.1/x?k=v#frag",
    ]);
    expect(r.url).toBe("http://127.0.0.1/x?k=v&q=x+y&r=%41&n=x%2ay+z%0a&z+z&plain+w");
    expect(parseCurlArgs(["--url-query", "q=1", "-G", "-d", "a=1", "http://127.0.0.1/x"]).url).toBe(
      "http://127.0.0.1/x?a=1",
    );
  });
  it("-G writes the data's escapes in lower case, as curl's URL API does", () => {
    expect(parseCurlArgs(["-G", "--data-urlencode", "a=*", "-d", "b=%2A", "http://h/"]).url).toBe(
      "http://h/?a=%2a&b=%2a",
    );
  });
  it("--data-urlencode: name@file and @file read the file, spaces become +", () => {
    const f = join(dir, "u.txt");
    writeFileSync(f, "x*y z\n");
    const r = parseCurlArgs([
      "--data-urlencode",
      "a=*\n y",
      "--data-urlencode",
      `b@${f}`,
      "--data-urlencode",
      `@${f}`,
      "http://h/",
    ]);
    expect(r.body?.toString()).toBe("a=%2A%0A+y&b=x%2Ay+z%0A&x%2Ay+z%0A");
  });
  it("-r/--range sends a Range header", () => {
    expect(parseCurlArgs(["-r", "0-10", "http://h/"]).headers).toContainEqual(["Range", "bytes=0-10"]);
    expect(parseCurlArgs(["--range", "5-", "http://h/"]).headers).toContainEqual(["Range", "bytes=5-"]);
  });

  it("-b FILE reads the cookies a Netscape or Set-Cookie file holds for the URL, then the -b strings", () => {
    const jar = join(dir, "jar.txt");
    writeFileSync(
      jar,
      [
        "# Netscape HTTP Cookie File",
        "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc",
        "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\thid\tdef",
        ".other.com\tTRUE\t/\tFALSE\t0\tot\tx",
        "127.0.0.1\tFALSE\t/\tTRUE\t0\tsec\tonly-https",
        "127.0.0.1\tFALSE\t/\tFALSE\t1000\told\texpired",
        "",
      ].join("\n"),
    );
    const r = parseCurlArgs(["-b", "a=b; c=d", "-b", jar, "http://127.0.0.1/x"]);
    expect(r.headers.filter(([n]) => n === "Cookie")).toEqual([["Cookie", "hid=def; sid=abc; a=b; c=d"]]);
    const hdr = join(dir, "hdrjar.txt");
    writeFileSync(hdr, "Set-Cookie: s2=v2; Path=/\n");
    expect(parseCurlArgs(["-b", hdr, "http://127.0.0.1/x"]).headers).toContainEqual(["Cookie", "s2=v2"]);
  });

  it("a raw line break in a header value is refused when the line is read, naming the header, never its value", () => {
    expect.assertions(9);
    for (const argv of [
      ["-H", "X-Tok: s3cr3t\nEvil: b"],
      ["-b", "session=s3cr3t\r\nx=1"],
      ["-A", "agent s3cr3t\n"],
    ]) {
      let message = "";
      try {
        parseCurlArgs([...argv, "http://h/"]);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        message = (e as Error).message;
      }
      expect(message).toMatch(/^the (X-Tok|Cookie|User-Agent) header has a raw line break in its value/);
      expect(message).not.toContain("s3cr3t");
    }
  });
});
