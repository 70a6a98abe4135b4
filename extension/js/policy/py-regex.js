// Python `re` patterns (the bundle's) compiled to JavaScript RegExps that match the same strings.
//
// The core compiles the bundle's patterns with `re.ASCII` (so `\d`, `\w`, `\s`, `\b` are ASCII, as
// in JavaScript), but Python's `$` also matches before a final newline, `.` matches `\r`, and the
// syntax differs in places (`{,n}`, literal `{`). This module rewrites those constructs so that
// `pyRegex(p).test(s)` agrees with `re.compile(p, re.ASCII).search(s)` (the cross-check in
// tests/extension/ runs both on the same inputs). The same walk writes RE2 for the browser's
// declarativeNetRequest rules (`re2UrlPart`, used by js/dnr-regex.js): one translator, two targets.
// Pure: no browser or Node APIs.

// Python's str.isspace() set (what str.strip() removes).
export const PY_SPACE =
  "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
// What \s, \w and \d match under re.ASCII.
const ASCII_SPACE = " \\t\\n\\r\\x0c\\x0b";
const PY_WORD = "A-Za-z0-9_";
const PY_DIGIT = "0-9";
const SYNTAX = new Set("^$\\.*+?()[]{}|/".split(""));
const CLASS_SYNTAX = new Set("^$\\.*+?()[]{}|/-".split(""));

export class PyRegexError extends Error {}

// What each target takes. JS: a RegExp in unicode mode, the whole Python syntax the bundle may use.
// RE2 (a declarativeNetRequest regexFilter, which the browser runs against a whole URL): one part
// of the URL, so `.` and negated sets never run from the path into the query, and `^`/`$` only
// where the caller (js/dnr-regex.js) places them; no lookahead, backreference or \u escape.
const JS = { re2: false, path: false };
const RE2_PATH = { re2: true, path: true };
const RE2_QUERY = { re2: true, path: false };

/** Compile a Python regular expression to an equivalent JS RegExp (unicode mode); with
 * `ignoreCase`, as re.IGNORECASE does on ASCII text (what policy/canonical.py gives it). */
export function pyRegex(pattern, { ignoreCase = false } = {}) {
  const source = translate(pattern, JS);
  try {
    return new RegExp(source, ignoreCase ? "iu" : "u");
  } catch (err) {
    throw new PyRegexError(`cannot compile ${JSON.stringify(pattern)}: ${err.message}`);
  }
}

/**
 * A Python pattern (the bundle's, re.ASCII) as RE2 for one part of a URL (`part`: "path" or
 * "query"), without its leading `^` or final `$` (the caller anchors it), or null when RE2 can't
 * say the same: such an endpoint is then not held (the safe side).
 */
export function re2UrlPart(pattern, part) {
  try {
    return translate(pattern, part === "path" ? RE2_PATH : RE2_QUERY);
  } catch (err) {
    if (err instanceof PyRegexError) return null;
    throw err;
  }
}

// policy/config.py refuses inline flags, named groups, lookbehind, \A, \Z and possessive
// quantifiers in the bundle's patterns (they are not portable), so none is translated here: any
// that came would be refused below (an unsupported group or escape) or by RegExp itself.
function translate(pattern, target) {
  let i = 0;
  let out = "";
  const n = pattern.length;
  const unsupported = (what) => {
    throw new PyRegexError(`${what} in ${pattern} has no equivalent here`);
  };
  while (i < n) {
    const c = pattern[i];
    if (c === "\\") {
      const [text, used] = escapeOutside(pattern, i, target);
      out += text;
      i += used;
    } else if (c === "[") {
      const [text, used] = characterClass(pattern, i, target);
      out += text;
      i += used;
    } else if (c === ".") {
      out += target.path ? "[^\\n?]" : "[^\\n]";
      i += 1;
    } else if (c === "$") {
      if (target.path) unsupported("a $ before the end of the path");
      out += target.re2 ? "$" : "(?=\\n?$)"; // Python's $ also matches before a final newline
      i += 1;
    } else if (c === "^") {
      if (target.re2) unsupported("a ^ after the start");
      out += "^";
      i += 1;
    } else if (c === "(") {
      const rest = pattern.slice(i);
      if (rest.startsWith("(?#")) {
        i = pattern.indexOf(")", i) + 1;
      } else if (rest.startsWith("(?:") || !rest.startsWith("(?")) {
        out += "(";
        i += 1;
      } else if (/^\(\?[=!]/.test(rest) && !target.re2) {
        out += "(";
        i += 1;
      } else {
        throw new PyRegexError(`unsupported group ${rest.slice(0, 4)} in ${pattern}`);
      }
    } else if (c === "{") {
      const q = /^\{(\d*)(,?)(\d*)\}/.exec(pattern.slice(i));
      if (q && (q[1] !== "" || (q[2] === "," && q[3] !== ""))) {
        out += q[2] ? `{${q[1] || "0"},${q[3]}}` : `{${q[1]}}`;
        i += q[0].length;
      } else {
        out += "\\{";
        i += 1;
      }
    } else if (c === "}") {
      out += "\\}";
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

function simpleEscape(pattern, i, inClass, target) {
  // Escapes common to both contexts; returns [text, used] or null.
  const e = pattern[i + 1];
  if (e === undefined) throw new PyRegexError(`trailing backslash in ${pattern}`);
  if (target.re2 && (e === "u" || e === "U")) throw new PyRegexError(`\\${e} (RE2 writes it \\x{...}) in ${pattern}`);
  if ("ntrfv".includes(e)) return [`\\${e}`, 2];
  if (e === "a") return ["\\x07", 2];
  if (e === "x") {
    const hex = pattern.slice(i + 2, i + 4);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new PyRegexError(`bad \\x escape in ${pattern}`);
    return [`\\x${hex}`, 4];
  }
  if (e === "u") {
    const hex = pattern.slice(i + 2, i + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PyRegexError(`bad \\u escape in ${pattern}`);
    return [`\\u{${hex}}`, 6];
  }
  if (e === "U") {
    const hex = pattern.slice(i + 2, i + 10);
    if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw new PyRegexError(`bad \\U escape in ${pattern}`);
    return [`\\u{${hex.replace(/^0+(?=.)/, "")}}`, 10];
  }
  if (e === "d") return [inClass ? PY_DIGIT : `[${PY_DIGIT}]`, 2];
  if (e === "w") return [inClass ? PY_WORD : `[${PY_WORD}]`, 2];
  if (e === "s") return [inClass ? ASCII_SPACE : `[${ASCII_SPACE}]`, 2];
  if (/[A-Za-z]/.test(e)) return null;
  if (/[0-9]/.test(e)) return null;
  // Identity escape of punctuation: keep the backslash only where JS needs it.
  const syntax = inClass ? CLASS_SYNTAX : SYNTAX;
  return [syntax.has(e) ? `\\${e}` : e, 2];
}

function escapeOutside(pattern, i, target) {
  const simple = simpleEscape(pattern, i, false, target);
  if (simple) return simple;
  const e = pattern[i + 1];
  const notQuery = target.path ? "?" : ""; // in a path, nothing negated runs into the query
  switch (e) {
    case "D":
      return [`[^${PY_DIGIT}${notQuery}]`, 2];
    case "W":
      return [`[^${PY_WORD}${notQuery}]`, 2];
    case "S":
      return [`[^${ASCII_SPACE}${notQuery}]`, 2];
    case "b":
      return ["\\b", 2]; // an ASCII word boundary in both (no i flag)
    case "B":
      return ["\\B", 2];
    default:
      break;
  }
  if (target.re2) throw new PyRegexError(`\\${e} (a backreference or octal escape: RE2 has none) in ${pattern}`);
  const digits = /^\d{1,2}/.exec(pattern.slice(i + 1));
  if (digits && digits[0][0] !== "0") return [`\\${digits[0]}`, 1 + digits[0].length];
  if (e === "0") {
    const oct = /^[0-7]{1,3}/.exec(pattern.slice(i + 1))[0];
    return [`\\u{${parseInt(oct, 8).toString(16)}}`, 1 + oct.length];
  }
  throw new PyRegexError(`unsupported escape \\${e} in ${pattern}`);
}

function characterClass(pattern, start, target) {
  let i = start + 1;
  let out = "[";
  let negated = false;
  if (pattern[i] === "^") {
    out += "^";
    negated = true;
    i += 1;
  }
  if (pattern[i] === "]") {
    out += "\\]";
    i += 1;
  }
  while (i < pattern.length && pattern[i] !== "]") {
    const c = pattern[i];
    if (c === "\\") {
      const e = pattern[i + 1];
      if (e === "D" || e === "W" || e === "S") {
        throw new PyRegexError(`negated shorthand \\${e} inside [...] in ${pattern}`);
      }
      if (e === "b") {
        out += "\\x08";
        i += 2;
        continue;
      }
      const simple = simpleEscape(pattern, i, true, target);
      if (!simple) throw new PyRegexError(`unsupported escape \\${e} in [...] in ${pattern}`);
      out += simple[0];
      i += simple[1];
    } else if (c === "[" || c === "/" || c === "{" || c === "}" || c === "(" || c === ")" || c === "|") {
      out += `\\${c}`;
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  if (i >= pattern.length) throw new PyRegexError(`unterminated [ in ${pattern}`);
  return [`${out}${negated && target.path ? "?" : ""}]`, i + 1 - start];
}
