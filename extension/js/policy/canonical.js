// policy/canonical.py: the request as the site reads it. Acts are decided on this canonical form,
// not on the bytes a page's script chose (issue 16 §3). Pure: no browser or Node APIs. The shared
// vectors (tests/vectors/canonical.json) and the cross-check keep it equal to Python.

import { PY_SPACE } from "./py-regex.js";

export const OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"];
export const OVERRIDE_PARAMETER = "_method";
/** Counted as POST: a site's write endpoint often takes them for the same act. */
export const WRITE_METHODS = new Set(["PUT", "PATCH"]);
/** How many encodings deep a body is opened (a form field holding JSON holding JSON). */
export const DEPTH = 3;

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX2 = /^%[0-9A-Fa-f]{2}/;
const ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g;
const JSON_ESCAPE = /\\(u[0-9A-Fa-f]{4}|[\s\S])/g;
const BOUNDARY = /boundary="?([^";,]+)/i;
const PART_NAME = /\bname="([^"]*)"/i;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { ignoreBOM: true }); // keeps a BOM, as Python does
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");
const LSTRIP = new RegExp(`^[${PY_SPACE}]+`, "u");

/** Lower case for ASCII letters only (as the core's, whatever the locale's rules). */
export function asciiLower(text) {
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** The canonical path of `raw` (without its query). */
export function path(raw) {
  const segments = [];
  let trailing = false;
  for (const piece of raw.split("/")) {
    const segment = _pathSegment(piece.split(";", 1)[0]);
    if (segment === "" || segment === "." || segment === "..") {
      if (segment === ".." && segments.length) segments.pop();
      trailing = true;
      continue;
    }
    segments.push(segment);
    trailing = false;
  }
  return "/" + segments.join("/") + (trailing && segments.length ? "/" : "");
}

function _pathSegment(segment) {
  let out = "";
  let index = 0;
  while (index < segment.length) {
    const char = segment[index];
    if (char === "%" && HEX2.test(segment.slice(index, index + 3))) {
      const escape = segment.slice(index, index + 3);
      const decoded = String.fromCharCode(parseInt(escape.slice(1), 16));
      out += UNRESERVED.test(decoded) ? decoded : escape.toUpperCase();
      index += 3;
      continue;
    }
    if (char < "\x80") {
      out += char;
      index += 1;
      continue;
    }
    const point = segment.codePointAt(index);
    const whole = String.fromCodePoint(point);
    for (const byte of ENCODER.encode(whole)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    index += whole.length;
  }
  return out;
}

/** A form or query component decoded: `+` is a space, escapes are UTF-8 (invalid: U+FFFD). */
export function formDecode(text) {
  text = text.replaceAll("+", " ");
  if (!text.includes("%")) return text;
  return text.replace(ESCAPES, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return DECODER.decode(bytes);
  });
}

/** The decoded [name, value] pairs of a query or form body; empty items skipped. */
export function pairs(text) {
  const out = [];
  for (const item of text.split("&")) {
    if (!item) continue;
    const at = item.indexOf("=");
    const [name, value] = at < 0 ? [item, ""] : [item.slice(0, at), item.slice(at + 1)];
    out.push([formDecode(name), formDecode(value)]);
  }
  return out;
}

/** The canonical query: each `key=value` decoded, keys in lower case, joined with `&`. */
export function query(raw) {
  const out = [];
  for (const item of raw.split("&")) {
    if (!item) continue;
    const at = item.indexOf("=");
    if (at < 0) out.push(asciiLower(formDecode(item)));
    else out.push(`${asciiLower(formDecode(item.slice(0, at)))}=${formDecode(item.slice(at + 1))}`);
  }
  return out.join("&");
}

/** Python's str.strip(). */
function _strip(text) {
  return text.replace(STRIP, "");
}

/** The method in upper case and any the request asks the site to take it as instead. */
export function methods(method, headers, rawQuery) {
  const found = new Set([_upper(_strip(method))]);
  for (const name of OVERRIDE_HEADERS) {
    const value = headers[name];
    // A header sent twice arrives joined with commas; a site may read either.
    if (value) for (const part of value.split(",")) found.add(_upper(_strip(part)));
  }
  for (const [name, value] of pairs(rawQuery)) {
    if (asciiLower(name) === OVERRIDE_PARAMETER && value) found.add(_upper(_strip(value)));
  }
  return found;
}

// Python's str.upper() and JavaScript's toUpperCase() differ outside ASCII (ß, ligatures): a
// method that is not ASCII matches no endpoint either way, so ASCII upper case is enough.
function _upper(text) {
  return text.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** Methods a form body's `_method` field asks for (as Rails and Laravel read a POST). */
export function formMethods(text) {
  const found = new Set();
  if (!asciiLower(text).includes(OVERRIDE_PARAMETER)) return found;
  for (const [name, value] of pairs(text)) {
    if (asciiLower(name) === OVERRIDE_PARAMETER && value) found.add(_upper(_strip(value)));
  }
  return found;
}

/** Whether an endpoint of `endpointMethods` (a Set) takes a request of `requestMethods`. */
export function accepts(endpointMethods, requestMethods) {
  for (const m of requestMethods) if (endpointMethods.has(m)) return true;
  if (!endpointMethods.has("POST")) return false;
  for (const m of requestMethods) if (WRITE_METHODS.has(m)) return true;
  return false;
}

/** `text` and the decoded views of it a site may read; a pattern matching any one matches. */
export function bodyViews(text, contentType = "") {
  const views = [];
  const boundary = asciiLower(contentType).includes("multipart/") ? BOUNDARY.exec(contentType) : null;
  if (boundary !== null) {
    const parts = [..._multipart(text, boundary[1])];
    views.push(parts.map(([name, value]) => `${name}=${value}`).join("&"));
    for (const [, value] of parts) views.push(..._views(value, DEPTH - 1));
  }
  views.push(..._views(text, DEPTH));
  return [...new Set(views)]; // each view once, in order
}

function* _views(text, depth) {
  yield text;
  if (depth <= 0) return;
  if (text.includes("=") && (text.includes("%") || text.includes("+") || text.includes("&"))) {
    const fields = pairs(text);
    yield fields.map(([name, value]) => `${name}=${value}`).join("&");
    for (const [, value] of fields) {
      if (_looksLikeJson(value) || value.includes("\\")) yield* _views(value, depth - 1);
    }
  }
  if (text.includes("\\")) yield jsonUnescape(text);
  if (_looksLikeJson(text)) {
    for (const value of _jsonStrings(text)) {
      if (_looksLikeJson(value) || value.includes("\\") || value.includes("%")) yield* _views(value, depth - 1);
    }
  }
}

// Python's str.lstrip() whitespace, then the first character.
function _looksLikeJson(text) {
  const first = text.replace(LSTRIP, "")[0];
  return first === "{" || first === "[";
}

/** JSON escapes written as the characters they stand for, where that keeps the text's shape:
 * `\u0053` is `S`, `\/` is `/`; a quote, a backslash or a control character stays escaped. */
export function jsonUnescape(text) {
  return text.replace(JSON_ESCAPE, (match, escape) => {
    if (escape === "/") return "/";
    if (escape.length === 5) {
      const char = String.fromCharCode(parseInt(escape.slice(1), 16));
      if (char === '"') return '\\"';
      if (char === "\\") return "\\\\";
      if (char >= " ") return char;
    }
    return match;
  });
}

/** Every string (keys too) in `text` read as JSON; none if it is not JSON. */
function _jsonStrings(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const found = [];
  const stack = [value];
  while (stack.length) {
    const item = stack.pop();
    if (typeof item === "string") found.push(item);
    else if (Array.isArray(item)) stack.push(...[...item].reverse());
    else if (item !== null && typeof item === "object") {
      for (const [key, inner] of Object.entries(item).reverse()) stack.push(inner, key);
    }
  }
  return found;
}

function* _multipart(text, boundary) {
  const chunks = text.split(`--${boundary}`).slice(1);
  for (const chunk of chunks) {
    if (chunk.startsWith("--")) return;
    let at = chunk.indexOf("\r\n\r\n");
    let skip = 4;
    if (at < 0) {
      at = chunk.indexOf("\n\n");
      skip = 2;
    }
    const head = at < 0 ? chunk : chunk.slice(0, at);
    let value = at < 0 ? "" : chunk.slice(at + skip);
    if (value.endsWith("\r\n")) value = value.slice(0, -2);
    if (value.endsWith("\n")) value = value.slice(0, -1);
    const name = PART_NAME.exec(head);
    yield [name ? name[1] : "", value];
  }
}
