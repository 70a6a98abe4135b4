// Build the extension package.
//
//   node extension/build.mjs --zip [--out FILE]   the zip to upload to the Chrome Web Store or
//                                                 self-host (default: dist/clausewarden-extension-<version>.zip)
//   node extension/build.mjs --bundle             regenerate extension/default-bundle.json from
//                                                 config/ (runs `.venv/bin/clausewarden bundle`)
//
// The zip is reproducible: files in a fixed order, fixed timestamps, written by Python's zipfile
// (build_zip.py; the project's .venv, else python3). No npm dependencies.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
// What goes into the package: everything the browser loads, nothing else.
const PACKAGED = [/^manifest\.json$/, /^managed_storage\.json$/, /^default-bundle\.json$/, /^[\w-]+\.html$/, /^[\w-]+\.css$/, /^js\/([\w-]+\/)*[\w-]+\.js$/];

export function packagedFiles() {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const name = relative(HERE, path).split("\\").join("/");
        if (PACKAGED.some((re) => re.test(name))) out.push(name);
      }
    }
  };
  walk(HERE);
  return out.sort();
}

/** The Python that writes the zip (zipfile): the project's virtualenv, else python3 on the PATH. */
function python() {
  const venv = join(ROOT, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

function buildZip(out) {
  const manifest = JSON.parse(readFileSync(join(HERE, "manifest.json"), "utf-8"));
  const target = out ? resolve(out) : join(ROOT, "dist", `clausewarden-extension-${manifest.version}.zip`);
  const files = packagedFiles();
  mkdirSync(dirname(target), { recursive: true });
  const result = spawnSync(python(), [join(HERE, "build_zip.py"), target, HERE, ...files], { stdio: "inherit" });
  if (result.status !== 0) throw new Error(`build_zip.py failed (${result.error ?? `exit ${result.status}`})`);
  console.log(`wrote ${target} (${files.length} files, version ${manifest.version})`);
}

function buildBundle() {
  const cli = join(ROOT, ".venv", "bin", "clausewarden");
  const result = spawnSync(cli, ["bundle", "--out", join(HERE, "default-bundle.json")], { stdio: "inherit" });
  if (result.status !== 0) throw new Error(`${cli} bundle failed`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (!args.length || args.includes("--help")) {
    console.log("usage: node extension/build.mjs [--bundle] [--zip [--out FILE]]");
    process.exit(args.length ? 0 : 2);
  }
  if (args.includes("--bundle")) buildBundle();
  if (args.includes("--zip")) {
    const at = args.indexOf("--out");
    buildZip(at >= 0 ? args[at + 1] : undefined);
  }
}
