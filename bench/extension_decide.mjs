// Speed of the extension's JS twin of decide() in Node: decisions per second and p50/p99.
//
// Run: node bench/extension_decide.mjs [--n 200000]
// Mix: top-level navigations, 70 % to non-social hosts and 30 % to catalogue hosts, times spread
// over the school year, a few with account cookies; plus a POST mix on endpoint paths with bodies.
// Per-call times come from process.hrtime.bigint() around each decide(); the goal is a navigation
// p99 under 0.2 ms. Also prints the cost of loading the bundle (new Policy) once.

import { readFileSync } from "node:fs";

import { decide } from "../extension/js/policy/decide.js";
import { Policy } from "../extension/js/policy/engine.js";

const args = process.argv.slice(2);
const N = Number(args[args.indexOf("--n") + 1]) || 200_000;
const bundle = JSON.parse(readFileSync(new URL("../extension/default-bundle.json", import.meta.url), "utf-8"));

let t0 = process.hrtime.bigint();
const policy = new Policy(bundle);
const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;

let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = (list) => list[Math.floor(rand() * list.length)];

const COMMON = [
  "www.bbc.co.uk", "www.gov.uk", "classroom.google.com", "docs.google.com", "outlook.office.com",
  "teams.microsoft.com", "www.twinkl.co.uk", "www.khanacademy.org", "login.microsoftonline.com",
  "www.purplemash.com", "ttrockstars.com", "www.amazon.co.uk", "www.theguardian.com",
  "www.oaknational.org.uk", "wycliffe.lancs.sch.uk", "www.google.com", "mail.google.com",
];
const SOCIAL = bundle.platforms.flatMap((p) => p.domains.slice(0, 3).map((d) => `www.${d}`));
const NAV = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" };
const XHR = { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" };
const start = Date.parse("2026-09-01T00:00:00Z");
const year = 365 * 86_400_000;

function navigation() {
  const host = rand() < 0.7 ? pick(COMMON) : pick(SOCIAL);
  const cookies = rand() < 0.1 ? { c_user: "100000000000001" } : {};
  return { host, path: "/", query: "", method: "GET", headers: NAV, cookies, body: null, at: start + Math.floor(rand() * year) };
}

const POSTS = [
  ["www.facebook.com", "/api/graphql/", "fb_api_req_friendly_name=ComposerStoryCreateMutation&variables=%7B%7D"],
  ["x.com", "/i/api/graphql/abc/CreateTweet", '{"variables":{}}'],
  ["www.linkedin.com", "/voyager/api/voyagerMessagingDashMessengerMessages", '{"message":{}}'],
  ["bsky.social", "/xrpc/com.atproto.repo.createRecord", '{"collection": "app.bsky.feed.post"}'],
  ["www.reddit.com", "/svc/shreddit/graphql", '{"operation":"CreatePost"}'],
];
function post() {
  const [host, path, body] = pick(POSTS);
  return { host, path, query: "", method: "POST", headers: XHR, cookies: {}, body, at: start + Math.floor(rand() * year) };
}

function run(name, make) {
  const facts = Array.from({ length: N }, make);
  for (let i = 0; i < Math.min(N, 20_000); i++) decide(facts[i], policy); // warm up the JIT
  const times = new Float64Array(N);
  const began = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    decide(facts[i], policy);
    times[i] = Number(process.hrtime.bigint() - t);
  }
  const totalNs = Number(process.hrtime.bigint() - began);
  times.sort();
  const q = (p) => times[Math.min(N - 1, Math.floor(p * N))] / 1000;
  console.log(
    `${name.padEnd(22)} ${Math.round(N / (totalNs / 1e9)).toLocaleString("en-GB").padStart(10)} decisions/s` +
      `   p50 ${q(0.5).toFixed(2)} µs   p99 ${q(0.99).toFixed(2)} µs   max ${(times[N - 1] / 1000).toFixed(0)} µs`,
  );
  return q(0.99);
}

console.log(`node ${process.version}; bundle ${bundle.version}: ${bundle.platforms.length} platforms; new Policy() ${loadMs.toFixed(1)} ms`);
const p99 = run("navigations", navigation);
const now = Date.parse("2026-11-25T10:00:00Z");
run("navigations, same minute", () => ({ ...navigation(), at: now }));
run("endpoint POSTs", post);
t0 = process.hrtime.bigint();
const floor = new Map(COMMON.map((h) => [h, 1]));
let hits = 0;
for (let i = 0; i < N; i++) hits += floor.get(COMMON[i % COMMON.length]);
console.log(`floor: Map.get ${(Number(process.hrtime.bigint() - t0) / N).toFixed(1)} ns per lookup (${hits})`);
console.log(`navigation p99 ${p99.toFixed(2)} µs: ${p99 < 200 ? "under" : "OVER"} the 0.2 ms goal`);
