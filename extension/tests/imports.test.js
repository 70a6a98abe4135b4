// The extension's house, drawn from its imports: no module cycle anywhere in js/, and the pure
// core (js/policy/, the twin of policy/) imports nothing outside itself, as policy/ imports no
// shell. Read from the source text, so a new module is covered without listing it here.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const JS = resolve(dirname(fileURLToPath(import.meta.url)), "..", "js");

/** Every .js file under `dir`, as paths relative to js/ ("policy/decide.js"). */
function modules(dir = JS) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...modules(path));
    else if (entry.name.endsWith(".js")) out.push(relative(JS, path).split("\\").join("/"));
  }
  return out.sort();
}

// `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`.
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s*(?:[^"'`;]*?\bfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** What `name` (relative to js/) imports: relative specifiers resolved to js/ names, others as written. */
export function importsOf(name) {
  const text = readFileSync(join(JS, name), "utf-8").replace(/\/\*[\s\S]*?\*\/|(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const out = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) {
      out.push(spec);
      continue;
    }
    out.push(relative(JS, resolve(JS, dirname(name), spec)).split("\\").join("/"));
  }
  return out;
}

/** A cycle in the graph `edges` (name -> names) as a list of names ending where it starts, else null. */
export function findCycle(edges) {
  const state = new Map(); // 1: on the current path, 2: done
  const path = [];
  function visit(node) {
    state.set(node, 1);
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 1) return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    state.set(node, 2);
    return null;
  }
  for (const node of [...edges.keys()].sort()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return null;
}

const GRAPH = new Map(modules().map((name) => [name, importsOf(name)]));

test("the import reader sees every form of import, and the cycle finder finds a cycle", () => {
  assert.ok(GRAPH.get("worker.js").includes("policy-cache.js"));
  assert.ok(GRAPH.get("policy/decide.js").includes("policy/facts.js"));
  assert.ok(GRAPH.get("background.js").includes("ext.js")); // `import * as ext from`
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]])), ["a", "b", "c", "a"]);
  assert.equal(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), null);
});

test("every module the extension imports exists", () => {
  for (const [name, imports] of GRAPH) {
    for (const target of imports) {
      assert.ok(existsSync(join(JS, target)), `${name} imports ${target}, which is not there`);
    }
  }
});

test("the extension's modules import one another without a cycle", () => {
  const cycle = findCycle(GRAPH);
  assert.equal(cycle, null, `import cycle: ${cycle?.join(" -> ")}`);
});

test("the pure core, js/policy/, imports only js/policy/", () => {
  const core = [...GRAPH].filter(([name]) => name.startsWith("policy/"));
  assert.ok(core.length >= 9);
  for (const [name, imports] of core) {
    for (const target of imports) {
      assert.ok(target.startsWith("policy/"), `${name} imports ${target}, outside js/policy/`);
    }
  }
});

// The worker only carries out what js/policy/respond.js decides: from the core it takes the
// Response (respond.js), the facts and the page's content, never the rules of what staff see.
const WORKER = [
  "worker.js",
  "warning-flow.js",
  "held-acts.js",
  "navigation.js",
  "navigation-rules.js",
  "act-rules.js",
  "recorder.js",
  "allowances.js",
  "session-rules.js",
];
const DECIDING = ["decide", "WARNING_OUTCOMES", "continueOffered", "continueAccepted", "goingBackRecorded", "actHeld", "whatStaffSee", "SEEN", "isTopLevelNavigation", "isPrefetch"];

/** The names `name` imports from `module` (both relative to js/) with `import { … } from`. */
function namesImported(name, module) {
  const text = readFileSync(join(JS, name), "utf-8");
  const out = [];
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*["']([^"']+)["']/g)) {
    if (relative(JS, resolve(JS, dirname(name), m[2])).split("\\").join("/") !== module) continue;
    out.push(...m[1].split(",").map((n) => n.trim().split(/\s+as\s+/)[0]).filter(Boolean));
  }
  return out;
}

test("the worker's modules carry out Responses and never import the rules of what staff see", () => {
  assert.deepEqual(namesImported("warning-flow.js", "policy/respond.js").includes("answerContinue"), true);
  for (const name of WORKER) {
    assert.ok(GRAPH.has(name), name);
    for (const module of ["policy/decide.js", "policy/warning.js", "policy/respond.js"]) {
      const reached = namesImported(name, module).filter((n) => DECIDING.includes(n));
      assert.deepEqual(reached, [], `${name} imports ${reached.join(", ")} from ${module}`);
    }
    for (const target of GRAPH.get(name)) {
      assert.ok(!target.startsWith("policy/") || namesImported(name, target).length, `${name}: import * from ${target}`);
    }
  }
});
