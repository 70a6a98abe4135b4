// The RE2 regexFilter of a declarativeNetRequest rule for a catalogue pattern: an endpoint's path
// and query (js/act-rules.js), or a quiet area of a platform (js/navigation-rules.js). The Python
// patterns are translated by js/policy/py-regex.js; this module only anchors them in a whole URL.
// Pure: no browser APIs.

import { re2UrlPart } from "./policy/py-regex.js";

const escapeHost = (host) => host.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");

/**
 * The RE2 regexFilter (matched against the whole request URL, case-sensitively) of an endpoint's
 * path and query patterns, or null when they can't be written so. `hosts`: the endpoint's own
 * hosts (exact names), else any host (the rule's requestDomains say which).
 */
export function endpointUrlRegex({ path, query = null, hosts = [] }) {
  let start = hosts.length ? `^https?://(?:${hosts.map(escapeHost).join("|")})(?::\\d+)?` : "^https?://[^/?#]+";
  let pathPattern = path;
  if (pathPattern.startsWith("^")) pathPattern = pathPattern.slice(1);
  else start += "/[^?]*"; // searched anywhere in the path (which starts with "/")
  const ends = pathPattern.endsWith("$") && !pathPattern.endsWith("\\$");
  if (ends) pathPattern = pathPattern.slice(0, -1);
  const pathRe = re2UrlPart(pathPattern, "path");
  if (pathRe === null) return null;
  const regex = `${start}(?:${pathRe})${ends ? "" : "[^?]*"}`;
  if (query === null || query === undefined) return ends ? `${regex}(?:\\?.*)?$` : regex;
  let q = query;
  let queryStart = "\\?.*";
  if (q.startsWith("(^|&)")) {
    q = q.slice(5);
    queryStart = "\\?(?:.*&)?";
  } else if (q.startsWith("^")) {
    q = q.slice(1);
    queryStart = "\\?";
  }
  const queryRe = re2UrlPart(q, "query");
  if (queryRe === null) return null;
  return `${regex}${queryStart}(?:${queryRe})`;
}
