// AllowOverride: which class a directive needs before httpd accepts it in a
// .htaccess (AuthConfig, Limit, Options, Indexes, FileInfo, or All only).

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

/** Which AllowOverride class a .htaccess directive needs (FileInfo for every directive not listed). */
export function overrideClass(name: string): string {
  return CLASS_OF.get(name.toLowerCase()) ?? "FileInfo";
}

/** Whether a .htaccess under these AllowOverride classes may use the directive (always, outside .htaccess). */
export function permitted(name: string, htaccessAllowed: Set<string> | null): boolean {
  if (!htaccessAllowed) return true;
  if (htaccessAllowed.has("All")) return true;
  return htaccessAllowed.has(overrideClass(name));
}
