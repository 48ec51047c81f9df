// Attack-pattern families that firewall rule sets (OWASP CRS and the commercial
// WAFs modelled on it) look for. Used to name the family of a trigger and, offline,
// to notice request content that a WAF would likely refuse.

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
