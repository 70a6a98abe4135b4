// Build the extension package.
//
//   node extension/build.mjs --zip [--out FILE]   the zip to upload to the Chrome Web Store or
//                                                 self-host (default: dist/clausewarden-extension-<version>.zip)
//   node extension/build.mjs --bundle             regenerate extension/default-bundle.json from
//                                                 config/ (runs `.venv/bin/clausewarden bundle`)
//
// The zip is reproducible: files in a fixed order, fixed timestamps, deflate via zlib. No npm
// dependencies.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateRawSync } from "node:zlib";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
// What goes into the package: everything the browser loads, nothing else.
const PACKAGED = [/^manifest\.json$/, /^managed_storage\.json$/, /^default-bundle\.json$/, /^[\w-]+\.html$/, /^[\w-]+\.css$/, /^js\/[\w-]+\.js$/];

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

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive (deflate) of `files`: [{name, data: Buffer}]. */
export function zip(files) {
  const DOS_TIME = 0;
  const DOS_DATE = (1 << 5) | 1; // 1980-01-01: reproducible
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name, "utf-8");
    const packed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made by Unix, spec 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

function buildZip(out) {
  const manifest = JSON.parse(readFileSync(join(HERE, "manifest.json"), "utf-8"));
  const target = out ? resolve(out) : join(ROOT, "dist", `clausewarden-extension-${manifest.version}.zip`);
  const files = packagedFiles().map((name) => ({ name, data: readFileSync(join(HERE, name)) }));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, zip(files));
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
