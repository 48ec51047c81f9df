// Guesses the attack family a WAF saw in a minimal trigger, from the text
// alone. A guess for the report's wording, never evidence on its own.

import type { TriggerLocation } from "../model.js";

const FAMILIES: Array<[family: string, pattern: RegExp]> = [
  [
    "scanner user agent",
    /\b(?:sqlmap|nikto|nmap|masscan|zgrab|nuclei|acunetix|netsparker|wpscan|dirbuster|gobuster|ffuf|havij|w3af|arachni|openvas|burp)/i,
  ],
  [
    "XSS",
    /<\s*\/?\s*(?:script|iframe|svg|img|body|object|embed)\b|\bon[a-z]+\s*=|javascript\s*:|<[a-z]+[^>]*\s(?:src|href)\s*=/i,
  ],
  [
    "SQL injection",
    /(?:'|")\s*(?:or|and|union)\b|\bunion\b[\s\S]*\bselect\b|\bselect\b[\s\S]*\bfrom\b|\b(?:or|and)\s+\d+\s*=\s*\d+|\bsleep\s*\(|\bbenchmark\s*\(|--\s*$|;\s*(?:drop|delete|insert|update)\b|\bwaitfor\s+delay\b|information_schema/i,
  ],
  ["path traversal", /(?:\.\.[/\\]){1,}|%2e%2e[%/\\]|\/etc\/(?:passwd|shadow)|\bboot\.ini\b|win\.ini/i],
  [
    "command injection",
    /(?:[;|&`]|\$\()\s*(?:cat|ls|id|whoami|uname|wget|curl|nc|bash|sh|ping|powershell|cmd)\b|\/bin\/(?:ba)?sh\b|\bcmd(?:\.exe)?\s+\/c\b/i,
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
  ["protocol violation", /[\x00-\x08\x0b\x0c\x0e-\x1f]|%00|\r\n/],
];

export function guessFamily(
  minimal: string,
  location?: TriggerLocation,
  name?: string | null,
): string | undefined {
  if (location === "header" && name?.toLowerCase() === "user-agent") {
    const byText = FAMILIES.find(([, re]) => re.test(minimal));
    return byText?.[0] === "scanner user agent" || !byText ? "scanner user agent" : byText[0];
  }
  for (const [family, pattern] of FAMILIES) if (pattern.test(minimal)) return family;
  return undefined;
}
