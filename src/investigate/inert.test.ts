import { describe, expect, it } from "vitest";
import { nginxPage, res } from "../experiments/_test-kit.js";
import { fingerprint } from "../fingerprint/match.js";
import type { RequestModel, ResponseModel } from "../model.js";
import { coveredByInertShape, observation, proveDecoyInert, serverOwnAnswer } from "./inert.js";

const APACHE_404 =
  '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n<hr>\n<address>Apache/2.4.62 (Debian) Server at lab.test Port 80</address>\n</body></html>\n';

const own = (method: "GET" | "OPTIONS", r: ResponseModel) => serverOwnAnswer(method, r, fingerprint(r));

describe("serverOwnAnswer", () => {
  it("accepts the web server's own canned pages", () => {
    expect(own("GET", nginxPage(404))).toMatch(/nginx's own page/);
    expect(own("OPTIONS", nginxPage(405))).toMatch(/nginx's own page/);
    expect(own("GET", res(404, APACHE_404, [["Server", "Apache/2.4.62 (Debian)"]]))).toMatch(/apache/);
    // ServerSignature Off: no <address> footer, the canned sentence alone names Apache's page.
    const unsigned = APACHE_404.replace(/<hr>\n<address>[^\n]*\n/, "");
    expect(own("GET", res(404, unsigned, [["Server", "Apache"]]))).toMatch(/apache's own page \(page-404\)/);
  });

  it("accepts Apache's core answer to OPTIONS on a path it maps to no file, and nothing with more headers", () => {
    const core = (extra: Array<[string, string]> = []) => ({
      status: 200,
      statusText: "OK",
      httpVersion: "HTTP/1.1",
      headers: [
        ["Date", "Wed, 02 Dec 2026 02:55:02 GMT"],
        ["Server", "Apache/2.4.71 (Debian)"],
        ["Allow", "GET,POST,OPTIONS,HEAD,TRACE"],
        ["Content-Length", "0"],
        ...extra,
      ] as Array<[string, string]>,
      body: Buffer.alloc(0),
      bodyTruncated: false,
    });
    expect(own("OPTIONS", core())).toMatch(/apache's own bodiless Allow answer/);
    expect(own("OPTIONS", core([["ETag", 'W/"8-x"']]))).toBeNull();
    expect(own("OPTIONS", core([["Access-Control-Allow-Origin", "*"]]))).toBeNull();
    // Not for GET: a bodiless 200 to GET is some handler's answer.
    expect(own("GET", core())).toBeNull();
  });

  it("refuses anything an application may have written", () => {
    // nginx's Server header on an app's page (a proxied 404): no canned body.
    expect(own("GET", res(404, "<h1>Page not found</h1>", [["Server", "nginx"]]))).toBeNull();
    // The canned page, but with an application's header on it.
    const mixed = nginxPage(404);
    mixed.headers.push(["X-Powered-By", "Express"]);
    expect(own("GET", mixed)).toBeNull();
    // A front controller answering 200, a redirect, an SPA fallback.
    expect(own("GET", res(200, "<html>home</html>", [["Server", "nginx"]]))).toBeNull();
    expect(
      own(
        "GET",
        res(302, "", [
          ["Server", "nginx"],
          ["Location", "/login"],
        ]),
      ),
    ).toBeNull();
    // A refusal is no proof: a WAF may have stopped this request and not the next.
    expect(
      own("GET", res(403, "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>")),
    ).toBeNull();
    // OPTIONS answered 200 by an app listing its methods.
    expect(
      own(
        "OPTIONS",
        res(200, "GET,HEAD,POST", [
          ["Server", "nginx"],
          ["Allow", "GET,HEAD,POST"],
        ]),
      ),
    ).toBeNull();
    expect(serverOwnAnswer("GET", null, null)).toBeNull();
  });
});

const target: RequestModel = {
  method: "POST",
  url: "http://h.test/wp-admin/admin-ajax.php?_method=DELETE&id=1",
  headers: [
    ["Content-Type", "application/x-www-form-urlencoded"],
    ["Content-Length", "9"],
    ["X-HTTP-Method-Override", "DELETE"],
    ["Cookie", "s=1"],
  ],
  body: Buffer.from("action=go"),
  options: {},
};

describe("observation", () => {
  it("is bodiless, keeps the shape's headers and Content-Type, drops override fields and framing", () => {
    const o = observation(target, "GET", "http://h.test/.well-known/why403/t?_method=DELETE&id=1");
    expect(o.method).toBe("GET");
    expect(o.body).toBeNull();
    expect(o.url).toBe("http://h.test/.well-known/why403/t?id=1");
    expect(o.headers).toEqual([
      ["Content-Type", "application/x-www-form-urlencoded"],
      ["Cookie", "s=1"],
    ]);
  });
});

describe("proveDecoyInert", () => {
  const decoy = "http://h.test/.well-known/why403/t";
  const observe = (answer: (r: RequestModel) => ResponseModel) => {
    const sent: RequestModel[] = [];
    const fn = async (r: RequestModel) => {
      sent.push(r);
      const response = answer(r);
      // The fake's refusal is any 403.
      return {
        response,
        fingerprint: fingerprint(response),
        record: { finding: "" },
        sameRefusal: response.status === 403,
      };
    };
    return { sent, fn };
  };

  it("never observes nor carries a query that names a method override", async () => {
    const o = observe((r) => (r.method === "GET" ? nginxPage(404) : nginxPage(405)));
    const { result, shape } = await proveDecoyInert(target, decoy, o.fn, 10);
    expect(o.sent.map((r) => r.url)).toEqual([decoy, decoy]);
    expect(result).toMatchObject({ inert: true, url: decoy, withQuery: false });
    expect(shape).toEqual({ path: decoy, bare: true, query: null });
  });

  it("stops at the first answer that is not the server's own", async () => {
    const o = observe(() => res(404, "not here", [["X-Powered-By", "PHP/8.2"]]));
    const { result, shape } = await proveDecoyInert({ ...target, url: "http://h.test/a" }, decoy, o.fn, 10);
    expect(o.sent).toHaveLength(1);
    expect(result.inert).toBe(false);
    expect(result.because).toMatch(/application code may answer there/);
    expect(shape).toBeNull();
  });

  it("an observation refused like the request (a rule on its headers) is repeated with only the routing headers", async () => {
    const scanner: RequestModel = {
      ...target,
      url: "http://h.test/api/items",
      headers: [
        ["Host", "h.test"],
        ["User-Agent", "sqlmap/1.7"],
        ["Accept", "*/*"],
        ["Cookie", "s=1"],
      ],
    };
    const o = observe((r) => {
      if (r.headers.some(([n, v]) => n === "User-Agent" && v.startsWith("sqlmap")))
        return res(403, "blocked");
      return r.method === "GET" ? nginxPage(404) : nginxPage(405);
    });
    const { result } = await proveDecoyInert(scanner, decoy, o.fn, 10);
    expect(result.inert).toBe(true);
    expect(o.sent.map((r) => r.headers.map(([n]) => n).join(","))).toEqual([
      "Host,User-Agent,Accept,Cookie",
      "Host,Accept",
      "Host,User-Agent,Accept,Cookie",
      "Host,Accept",
    ]);
  });

  it("the server's own 400 to a bodiless observation that announces a body type is looked at again without Content-Type", async () => {
    // A firewall parsing the body its Content-Type announces (ModSecurity v3, XML) fails on none.
    const xml: RequestModel = {
      ...target,
      url: "http://h.test/api",
      headers: [
        ["Host", "h.test"],
        ["Content-Type", "application/xml"],
      ],
    };
    const nginx400 = () => {
      const page = nginxPage(404);
      return {
        ...page,
        status: 400,
        body: Buffer.from(page.body.toString().replaceAll("404 Not Found", "400 Bad Request")),
      };
    };
    const o = observe((r) => {
      if (r.headers.some(([n]) => n === "Content-Type")) return nginx400();
      return r.method === "GET" ? nginxPage(404) : nginxPage(405);
    });
    const { result } = await proveDecoyInert(xml, decoy, o.fn, 10);
    expect(result.inert).toBe(true);
    expect(o.sent.map((r) => `${r.method} ${r.headers.map(([n]) => n).join(",")}`)).toEqual([
      "GET Host,Content-Type",
      "GET Host",
      "OPTIONS Host,Content-Type",
      "OPTIONS Host",
    ]);
    // An application's 400 is no reason to look again.
    const app = observe(() => res(400, '{"error":"bad"}', [["X-Powered-By", "Express"]]));
    expect((await proveDecoyInert(xml, decoy, app.fn, 10)).result.inert).toBe(false);
    expect(app.sent).toHaveLength(1);
  });

  it("a refusal that is not the request's own (another status or page) is not looked at again", async () => {
    const o = observe(() => res(401, "login first"));
    const { result } = await proveDecoyInert({ ...target, url: "http://h.test/a" }, decoy, o.fn, 10);
    expect(result.inert).toBe(false);
    expect(o.sent).toHaveLength(1);
  });

  it("needs budget for both observations", async () => {
    const o = observe(() => nginxPage(404));
    const { result } = await proveDecoyInert(target, decoy, o.fn, 1);
    expect(result.inert).toBe(false);
    expect(o.sent).toHaveLength(0);
  });
});

describe("coveredByInertShape", () => {
  const path = "http://h.test/.well-known/why403/t";
  it("covers the bare path, and sub-queries of an observed query only", () => {
    const bareOnly = [{ path, bare: true, query: null }];
    expect(coveredByInertShape(path, bareOnly)).toBe(true);
    expect(coveredByInertShape(`${path}?a=1`, bareOnly)).toBe(false);
    const withQuery = [
      {
        path,
        bare: true,
        query: [
          ["a", "1"],
          ["b", "2"],
        ] as Array<[string, string]>,
      },
    ];
    expect(coveredByInertShape(`${path}?b=2`, withQuery)).toBe(true);
    expect(coveredByInertShape(`${path}?a=1&b=2`, withQuery)).toBe(true);
    expect(coveredByInertShape(`${path}?a=2`, withQuery)).toBe(false);
    expect(coveredByInertShape(`${path}?a=1&a=1`, withQuery)).toBe(false);
    expect(coveredByInertShape(`${path}?a=1&_method=DELETE`, withQuery)).toBe(false);
    expect(coveredByInertShape("http://h.test/.well-known/why403/other", withQuery)).toBe(false);
    expect(coveredByInertShape("http://other.test/.well-known/why403/t", withQuery)).toBe(false);
  });
});
