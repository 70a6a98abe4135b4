// Test helpers: a storage with chrome.storage.local's promise API kept in a JSON file (so a new
// instance is "the browser after a restart"), and a real local HTTP server.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class FileStorage {
  constructor(path = join(mkdtempSync(join(tmpdir(), "cw-storage-")), "local.json")) {
    this.path = path;
  }

  read() {
    return existsSync(this.path) ? JSON.parse(readFileSync(this.path, "utf-8")) : {};
  }

  async get(keys) {
    const all = this.read();
    if (keys === null || keys === undefined) return all;
    const list = typeof keys === "string" ? [keys] : keys;
    return Object.fromEntries(list.filter((k) => k in all).map((k) => [k, all[k]]));
  }

  async set(items) {
    writeFileSync(this.path, JSON.stringify({ ...this.read(), ...items }));
  }

  async remove(keys) {
    const all = this.read();
    for (const k of typeof keys === "string" ? [keys] : keys) delete all[k];
    writeFileSync(this.path, JSON.stringify(all));
  }
}

/**
 * A stand-in for js/ext.js: storages in files, the browser's cookies from a list of
 * {domain, name, value}, and a record of what the worker did to tabs and rules.
 */
export function fakeExt({ managed = {}, cookies = [] } = {}) {
  const onDomain = (host, domain) => host === domain.replace(/^\./, "") || host.endsWith(`.${domain.replace(/^\./, "")}`);
  const ext = {
    local: new FileStorage(),
    session: new FileStorage(),
    tabs: [],
    sessionRules: [],
    managed: async () => managed,
    extensionUrl: (path) => `chrome-extension://clausewarden/${path}`,
    manifestVersion: () => "0.0.0-test",
    cookiesFor: async (url, names) => {
      const host = new URL(url).hostname;
      const out = {};
      for (const c of cookies) if (names.includes(c.name) && onDomain(host, c.domain) && !(c.name in out)) out[c.name] = c.value;
      return out;
    },
    cookiesNamed: async (name) => cookies.filter((c) => c.name === name),
    replaceSessionRules: async (rules) => {
      ext.sessionRules = rules;
    },
    updateTab: async (tabId, url) => {
      ext.tabs.push([tabId, url]);
    },
    opened: [],
    openTab: async (url) => {
      ext.opened.push(url);
    },
    ensureAlarm: async () => undefined,
    extensionId: () => "clausewarden",
    notifications: [],
    injected: [],
    notify: async (id, options) => {
      ext.notifications.push({ id, ...options });
    },
    clearNotification: async (id) => {
      ext.notifications = ext.notifications.filter((n) => n.id !== id);
    },
    injectNotice: async (tabId) => {
      ext.injected.push(tabId);
    },
  };
  return ext;
}

/** Start an HTTP server on 127.0.0.1; `handler(req, body) -> {status, headers, body}`. */
export async function serve(handler) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf-8");
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const answer = await handler(req, body);
      res.writeHead(answer.status, answer.headers ?? { "Content-Type": "application/json" });
      res.end(answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
