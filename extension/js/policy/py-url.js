// Python's urllib.parse.urlsplit (the parts Facts.from_url reads) and unquote, in JavaScript, so
// the twin reads a URL or a cookie exactly as the core does (the cross-check feeds both the same
// tricky URLs and cookie values). Pure: no browser or Node APIs.

const DECODER = new TextDecoder("utf-8");

/** urllib.parse.unquote (UTF-8, errors="replace"): ASCII runs decoded, invalid %XX kept. */
export function unquote(text) {
  if (!text.includes("%")) return text;
  return text.replace(/[\x00-\x7f]+/g, (run) => {
    if (!run.includes("%")) return run;
    const bytes = [];
    const pieces = run.split("%");
    for (const ch of pieces[0]) bytes.push(ch.charCodeAt(0));
    for (const piece of pieces.slice(1)) {
      if (/^[0-9a-fA-F]{2}/.test(piece)) {
        bytes.push(parseInt(piece.slice(0, 2), 16));
        for (const ch of piece.slice(2)) bytes.push(ch.charCodeAt(0));
      } else {
        bytes.push(0x25);
        for (const ch of piece) bytes.push(ch.charCodeAt(0));
      }
    }
    return DECODER.decode(new Uint8Array(bytes));
  });
}

/** urllib.parse.urlsplit(url) -> {hostname (Python's .hostname, "" when none), path, query}. */
export function urlsplit(url) {
  let rest = url.replace(/^[\x00-\x20]+/, "").replace(/[\t\r\n]/g, "");
  const colon = rest.indexOf(":");
  if (colon > 0 && /^[A-Za-z][A-Za-z0-9+\-.]*$/.test(rest.slice(0, colon))) rest = rest.slice(colon + 1);
  let netloc = "";
  if (rest.startsWith("//")) {
    let end = rest.length;
    for (const c of "/?#") {
      const at = rest.indexOf(c, 2);
      if (at >= 0 && at < end) end = at;
    }
    netloc = rest.slice(2, end);
    rest = rest.slice(end);
    if (netloc.includes("[") !== netloc.includes("]")) throw new Error(`Invalid IPv6 URL: ${url}`);
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const hostinfo = netloc.slice(netloc.lastIndexOf("@") + 1);
  let hostname;
  const open = hostinfo.indexOf("[");
  if (open >= 0) {
    const bracketed = hostinfo.slice(open + 1);
    const close = bracketed.indexOf("]");
    hostname = close >= 0 ? bracketed.slice(0, close) : bracketed;
  } else {
    const port = hostinfo.indexOf(":");
    hostname = port >= 0 ? hostinfo.slice(0, port) : hostinfo;
  }
  const pct = hostname.indexOf("%");
  hostname = pct >= 0 ? hostname.slice(0, pct).toLowerCase() + hostname.slice(pct) : hostname.toLowerCase();
  return { hostname, path: rest, query };
}
