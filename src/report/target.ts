// How every renderer names the request a report is about.
import type { Report } from "../model.js";

/** "POST https://…", or a note when a saved response came without its request (URL "unknown:"). */
export function targetLine(report: Report): string {
  return /^https?:/i.test(report.target.url)
    ? `${report.target.method} ${report.target.url}`
    : "saved response (request not recorded)";
}
