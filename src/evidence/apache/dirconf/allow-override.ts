// AllowOverride: which class a directive needs before httpd accepts it in a
// .htaccess (AuthConfig, Limit, Options, Indexes, FileInfo, or All only).
// The one table for both the decision (permitted) and the fix that names the
// class to add (fix-text.ts): each class is the "Override" line of the
// directive's httpd documentation.

const CLASS_OF = new Map<string, string>([
  ...[
    "authtype",
    "authname",
    "authuserfile",
    "authgroupfile",
    "authbasicprovider",
    "authbasicauthoritative",
    "require",
    "authmerging",
    "authzsendforbiddenonfailure",
    "satisfy",
    "requireall",
    "requireany",
    "requirenone",
  ].map((n) => [n, "AuthConfig"] as const),
  ...["order", "allow", "deny"].map((n) => [n, "Limit"] as const),
  ...["options", "xbithack"].map((n) => [n, "Options"] as const),
  // core.c declares LimitRequestBody with OR_ALL: only `AllowOverride All` lets a .htaccess use it.
  ["limitrequestbody", "All"],
  ...[
    "directoryindex",
    "indexoptions",
    "indexignore",
    "headername",
    "readmename",
    "adddescription",
    "fancyindexing",
    "indexorderdefault",
  ].map((n) => [n, "Indexes"] as const),
]);

/** The directives whose class is not FileInfo, lower-cased (for the test that ties the fix text to the decision). */
export const CLASSED_DIRECTIVES: readonly string[] = [...CLASS_OF.keys()];

/** Which AllowOverride class a .htaccess directive needs (FileInfo for every directive not listed); "<RequireAll>" or "RequireAll". */
export function overrideClass(name: string): string {
  return CLASS_OF.get(name.replace(/^<|>$/g, "").toLowerCase()) ?? "FileInfo";
}

/** Whether a .htaccess under these AllowOverride classes may use the directive (always, outside .htaccess). */
export function permitted(name: string, htaccessAllowed: Set<string> | null): boolean {
  if (!htaccessAllowed) return true;
  if (htaccessAllowed.has("All")) return true;
  return htaccessAllowed.has(overrideClass(name));
}
