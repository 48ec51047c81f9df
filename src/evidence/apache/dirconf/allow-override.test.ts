// The fix for a .htaccess line outside AllowOverride names a class to add; the
// evaluator decides with its own table. These tests tie the two together: the
// class the fix names must be the one that makes the evaluator accept the line.

import { describe, expect, it } from "vitest";
import { notAllowedInHtaccess } from "../fix-text.js";
import { parseApacheText } from "../parser.js";
import { CLASSED_DIRECTIVES, permitted } from "./allow-override.js";
import { buildDirConf } from "./build.js";
import { ref } from "./types.js";

const HTACCESS = "/srv/www/form/.htaccess";
const CLASSES = ["AuthConfig", "FileInfo", "Indexes", "Limit", "Options"];

/** One line of each directive the evaluator reads from a .htaccess, with arguments httpd accepts. */
const HANDLED_LINES = [
  "Require all granted",
  "AuthMerging and",
  "AuthzSendForbiddenOnFailure on",
  "AuthType Basic",
  "AuthUserFile /srv/htpasswd",
  "Order deny,allow",
  "Satisfy any",
  "Allow from 10.0.0.1",
  "Deny from all",
  "Options -Indexes",
  "DirectoryIndex index.html",
  "LimitRequestBody 100",
  "RewriteEngine on",
  "RewriteOptions inherit",
  "RewriteBase /form/",
  "RewriteCond %{REQUEST_METHOD} POST",
  "RewriteRule ^x - [F]",
  "SetEnvIf Remote_Addr ^10 ok",
  "SetEnvIfNoCase User-Agent bot bad",
  "BrowserMatch bot bad",
  "BrowserMatchNoCase bot bad",
  "<RequireAll>\nRequire all granted\n</RequireAll>",
  "<RequireAny>\nRequire all granted\n</RequireAny>",
  "<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>",
];

/** The class the fix text tells the user to add, read back from the sentence itself. */
function hintFor(directive: string): string {
  const text = notAllowedInHtaccess({ directive, args: [], file: HTACCESS, line: 1 });
  const m = /`AllowOverride (\w+)`/.exec(text);
  if (!m?.[1]) throw new Error(`no AllowOverride class in: ${text}`);
  return m[1];
}

function notAllowedUnder(line: string, allowed: string[]): string[] {
  const nodes = parseApacheText(line, HTACCESS).nodes;
  const conf = buildDirConf(nodes, {
    perdir: "/srv/www/form/",
    owner: null,
    htaccessAllowed: new Set(allowed),
    origin: HTACCESS,
  });
  return conf.notAllowed.map((d) => d.directive);
}

describe("AllowOverride: the fix names the class the evaluator needs", () => {
  it.each(CLASSED_DIRECTIVES)("%s: the hinted class is granted and needed", (name) => {
    const hint = hintFor(name);
    expect(permitted(name, new Set([hint]))).toBe(true);
    // Needed: every other single class leaves the directive refused.
    const others = [...CLASSES, "All"].filter((c) => c !== hint && c !== "All");
    for (const other of others) expect(permitted(name, new Set([other])), other).toBe(false);
  });

  it.each(HANDLED_LINES)("%s: accepted under the hinted class, refused under every other", (line) => {
    const directive = ref(parseApacheText(line, HTACCESS).nodes[0] as Parameters<typeof ref>[0]).directive;
    const hint = hintFor(directive);
    expect(notAllowedUnder(line, [hint])).toEqual([]);
    const others = CLASSES.filter((c) => c !== hint);
    expect(notAllowedUnder(line, others)).toEqual([directive]);
  });

  it("names the documented class for the lines whose hint once disagreed with the decision", () => {
    // httpd's docs: AuthzSendForbiddenOnFailure is Override AuthConfig, LimitRequestBody is Override All.
    expect(hintFor("AuthzSendForbiddenOnFailure")).toBe("AuthConfig");
    expect(hintFor("LimitRequestBody")).toBe("All");
    expect(hintFor("<RequireAny>")).toBe("AuthConfig");
    expect(hintFor("RewriteRule")).toBe("FileInfo");
  });
});
