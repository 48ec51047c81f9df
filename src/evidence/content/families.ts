// Attack-pattern families that firewall rule sets (OWASP CRS and the commercial
// WAFs modelled on it) look for, in two tables with two jobs: `matchFamily` is strict
// (offline, it must not take prose for an attack), `guessFamily` is permissive (it
// only names the family of a trigger that probing already proved).
import type { TriggerLocation } from "../../model.js";

export interface FamilyMatch {
  family: string;
  /** The matched fragment. */
  fragment: string;
}

const FAMILIES: Array<{ family: string; re: RegExp }> = [
  {
    family: "SQL injection",
    re: /\bunion\b[\s\S]{0,40}?\bselect\b|'\s*(or|and)\s*'?[\w-]+'?\s*(=|like)\s*'?[\w-]+|\b(or|and)\s+\d+\s*=\s*\d+|;\s*(drop|delete|insert|update|truncate|alter)\s+\w|\bsleep\s*\(\s*\d|\bbenchmark\s*\(|\bwaitfor\s+delay\b|'\s*--|\/\*!?\d*|\binformation_schema\b|\bxp_cmdshell\b/i,
  },
  {
    family: "cross-site scripting (XSS)",
    re: /<\s*script\b|<\s*\/\s*script|\bjavascript\s*:|\bon(error|load|click|mouseover|focus|toggle)\s*=|<\s*(iframe|svg|img|object|embed)\b[^>]*\b(src|on\w+)\s*=|\bdocument\s*\.\s*cookie\b|\balert\s*\(/i,
  },
  {
    family: "path traversal",
    re: /(\.\.[\\/]){2,}|\.\.[\\/](etc|windows|boot|proc)\b|%2e%2e(%2f|%5c|\/)|\/etc\/(passwd|shadow|hosts)\b|\bboot\.ini\b|c:\\windows\\/i,
  },
  {
    family: "command injection",
    re: /[;&|`]\s*(cat|ls|id|whoami|wget|curl|nc|bash|sh|ping|uname|rm)\b|\$\(\s*\w+|\bcmd(\.exe)?\s*\/c\b|\bpowershell\b/i,
  },
  {
    family: "remote file inclusion",
    re: /=\s*(https?|ftp):\/\/\d{1,3}(\.\d{1,3}){3}\/|\b(php|data|expect|file|zip|phar):\/\//i,
  },
  {
    family: "PHP or Java code injection",
    re: /<\?php|\beval\s*\(|\bbase64_decode\s*\(|\bsystem\s*\(|\bRuntime\s*\.\s*getRuntime\b|\$\{jndi:|\bjava\.lang\.|\bProcessBuilder\b/i,
  },
  { family: "template or expression injection", re: /\{\{\s*[\w.]+\s*\|\s*\w+|\$\{\s*T\s*\(|#\{\s*\w+\s*\(/ },
  {
    family: "scanner user agent",
    re: /\b(sqlmap|nikto|nmap|masscan|dirbuster|gobuster|wpscan|acunetix|nessus|netsparker|zgrab|w3af|havij|openvas|nuclei|burp|arachni|skipfish)\b/i,
  },
];

/** The first family whose pattern occurs in the text, with the fragment found. */
export function matchFamily(text: string): FamilyMatch | null {
  const sample = text.length > 100_000 ? text.slice(0, 100_000) : text;
  for (const { family, re } of FAMILIES) {
    const m = re.exec(sample);
    if (m) return { family, fragment: m[0] };
  }
  return null;
}

// Permissive patterns, for naming a proven trigger (a minimal fragment such as "' --").
const NAMING: Array<[family: string, pattern: RegExp]> = [
  [
    "scanner user agent",
    /\b(?:sqlmap|nikto|nmap|masscan|zgrab|nuclei|acunetix|netsparker|wpscan|dirbuster|gobuster|ffuf|havij|w3af|arachni|openvas|burp)/i,
  ],
  [
    "XSS",
    /<\s*\/?\s*(?:script|iframe|svg|img|body|object|embed|html|meta|link|style|base|form|frameset|frame|applet|marquee|math|video|audio)\b|\bon[a-z]+\s*=|javascript\s*:|<[a-z]+[^>]*\s(?:src|href)\s*=/i,
  ],
  [
    "SQL injection",
    /(?:'|")\s*(?:or|and|union)\b|'\s*\|\||\bunion\b[\s\S]*\bselect\b|\bselect\b[\s\S]*\bfrom\b|\b(?:or|and)\s+\d+\s*=\s*\d+|\bsleep\s*\(|\bbenchmark\s*\(|--\s*$|;\s*(?:drop|delete|insert|update)\b|\bwaitfor\s+delay\b|information_schema/i,
  ],
  ["path traversal", /(?:\.\.[/\\]){1,}|%2e%2e[%/\\]|\/etc\/(?:passwd|shadow)|\bboot\.ini\b|win\.ini/i],
  [
    "command injection",
    // Unix pipes and substitutions; Windows cmd's FOR … IN (…) DO and IF … == / GEQ.
    /(?:[;|&`]|\$\()\s*(?:cat|ls|id|whoami|uname|wget|curl|nc|bash|sh|ping|powershell|cmd)\b|\/bin\/(?:ba)?sh\b|\bcmd(?:\.exe)?\s+\/c\b|\bfor\b[^\n]{0,60}\bin\s*\([^)]*\)\s*do\b|\bif\s+(?:not\s+|\/i\s+)?[^\n]{0,40}?(?:==|\s(?:equ|neq|lss|leq|gtr|geq)\b)/i,
  ],
  [
    "PHP injection",
    /<\?php|\b(?:phpinfo|eval|assert|system|passthru|shell_exec|base64_decode|file_get_contents)\s*\(|php:\/\//i,
  ],
  [
    "Java injection",
    /\$\{jndi:|java\.lang\.(?:Runtime|ProcessBuilder)|\bRuntime\.getRuntime\b|\.getClass\(\)|class\.module\.classLoader/i,
  ],
  ["remote file inclusion", /^(?:https?|ftp):\/\/[^?]*\?+$|=\s*(?:https?|ftp):\/\/\d+\.\d+\.\d+\.\d+/i],
  ["server-side template injection", /\{\{[\s\S]*\}\}|\$\{[^}]*\}|<%[\s\S]*%>/],
  // Control bytes, and CR/LF still percent-encoded after decoding (a CRLF injection).
  ["protocol violation", /[\x00-\x08\x0b\x0c\x0e-\x1f]|%00|\r\n|%0[ad]/i],
  // A request or status line's protocol inside a value: a smuggled request, a split response.
  ["request smuggling or response splitting", /^\s*HTTP\/\d/],
  // A filter closed and another opened: `)(&`, `)!(sn=`, `)(|(uid=*`.
  ["LDAP injection", /\)\s*[!&|]?\s*\(\s*[!&|]|\)\s*!\s*\(/],
];

/** The family a proven minimal trigger belongs to, for the report's wording. */
export function guessFamily(
  minimal: string,
  location?: TriggerLocation,
  name?: string | null,
): string | undefined {
  if (location === "header" && name?.toLowerCase() === "user-agent") {
    const byText = NAMING.find(([, re]) => re.test(minimal));
    if (byText) return byText[0];
    return SCRIPTED_CLIENT.test(minimal) ? "scripted-client user agent" : "user agent rule";
  }
  for (const [family, pattern] of NAMING) if (pattern.test(minimal)) return family;
  return undefined;
}

// Clients that are not browsers; rules that refuse them are common on feeds and APIs.
const SCRIPTED_CLIENT =
  /\b(curl|wget|python|go-http-client|java|libwww|httpclient|okhttp|axios|node-fetch|undici|postman|insomnia|httpie|powershell)\b/i;
