// The only module that touches the browser's extension API (chrome.* or browser.*). The worker and
// the pages import these helpers, never the global.

export const api = globalThis.chrome ?? globalThis.browser;

export const local = api.storage.local;
export const session = api.storage.session ?? api.storage.local;

/** Settings pushed by the school (Google Admin console, Chrome/Edge policies); {} when none. */
export async function managed() {
  try {
    return (await api.storage.managed.get(null)) ?? {};
  } catch {
    return {}; // no managed storage (not deployed by policy, or a browser without it)
  }
}

export const extensionUrl = (path) => api.runtime.getURL(path);
export const extensionId = () => api.runtime.id;
export const manifestVersion = () => api.runtime.getManifest().version;

export async function cookiesFor(url, names) {
  const out = {};
  if (!names.length) return out;
  const all = await api.cookies.getAll({ url });
  for (const c of all) if (names.includes(c.name) && !(c.name in out)) out[c.name] = c.value;
  return out;
}

export const cookiesNamed = (name) => api.cookies.getAll({ name });

/** Replace every session-scoped declarativeNetRequest rule with `rules`. */
export async function replaceSessionRules(rules) {
  const old = await api.declarativeNetRequest.getSessionRules();
  await api.declarativeNetRequest.updateSessionRules({ removeRuleIds: old.map((r) => r.id), addRules: rules });
}

/** Whether the browser's declarativeNetRequest takes `regex` (RE2, within its size limit). */
export async function regexSupported(regex) {
  const answer = await api.declarativeNetRequest.isRegexSupported({ regex, isCaseSensitive: true });
  return Boolean(answer && answer.isSupported);
}

// The notification's icon (32x32 PNG, a white "!" on the school blue), inline: nothing to fetch.
const NOTICE_ICON =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAAMUlEQVR42mOQdWigKWIYtWDUAiT0HwmMWjBqwagFoxaMWjBoLRit0UZT0WgyHbkWAABbKhW91dgrDAAAAABJRU5ErkJggg==";

/** A notification (chrome.notifications); clicking it brings its tab forward. */
export async function notify(id, { title, message, contextMessage }) {
  if (!api.notifications) return;
  await api.notifications.create(id, {
    type: "basic",
    iconUrl: NOTICE_ICON,
    title,
    message,
    contextMessage,
    priority: 2,
  });
}

export async function clearNotification(id) {
  if (api.notifications) await api.notifications.clear(id);
}

/** Put the held act's notice (js/act-notice.js) in the top frame of tab `tabId`. */
export function injectNotice(tabId) {
  return api.scripting.executeScript({ target: { tabId, frameIds: [0] }, files: ["js/act-notice.js"] });
}

export const onNotificationClicked = (fn) => api.notifications?.onClicked.addListener(fn);

export async function focusTab(tabId) {
  const tab = await api.tabs.update(tabId, { active: true });
  if (tab && typeof tab.windowId === "number") await api.windows.update(tab.windowId, { focused: true });
}

export const onCookieChanged = (fn) => api.cookies.onChanged.addListener(fn);

export const updateTab = (tabId, url) => api.tabs.update(tabId, { url });
export const openTab = (url) => api.tabs.create({ url });

export function sendMessage(message) {
  return api.runtime.sendMessage(message);
}

export function ensureAlarm(name, periodInMinutes) {
  return api.alarms.get(name).then((found) => {
    if (!found || found.periodInMinutes !== periodInMinutes) {
      return api.alarms.create(name, { periodInMinutes, delayInMinutes: periodInMinutes });
    }
    return undefined;
  });
}

export const onBeforeNavigate = (fn) =>
  api.webNavigation.onBeforeNavigate.addListener(fn, { url: [{ schemes: ["http", "https"] }] });
export const onCommitted = (fn) =>
  api.webNavigation.onCommitted.addListener(fn, { url: [{ schemes: ["http", "https"] }] });
export const onBeforeRequest = (fn) =>
  api.webRequest.onBeforeRequest.addListener(
    fn,
    { urls: ["http://*/*", "https://*/*"], types: ["xmlhttprequest", "sub_frame", "main_frame", "ping", "other"] },
    ["requestBody"],
  );
/** A blocking listener with the body: it blocks only where Chrome allows it (the extension
 * force-installed by policy); elsewhere Chrome calls it without letting it cancel. */
export function onBeforeRequestBlocking(fn) {
  try {
    api.webRequest.onBeforeRequest.addListener(
      fn,
      { urls: ["http://*/*", "https://*/*"], types: ["xmlhttprequest", "sub_frame", "ping", "other"] },
      ["blocking", "requestBody"],
    );
    return true;
  } catch {
    return false; // not allowed here: the declarativeNetRequest rules hold what they can
  }
}
export const onRequestError = (fn) =>
  api.webRequest.onErrorOccurred.addListener(fn, {
    urls: ["http://*/*", "https://*/*"],
    types: ["xmlhttprequest", "sub_frame", "main_frame", "ping", "other"],
  });
export const onMessage = (fn) =>
  api.runtime.onMessage.addListener((request, sender, reply) => {
    Promise.resolve(fn(request, sender)).then(reply, (err) => reply({ error: String(err.message ?? err) }));
    return true; // the reply comes asynchronously
  });
export const onAlarm = (fn) => api.alarms.onAlarm.addListener(fn);
export const onStartup = (fn) => {
  api.runtime.onStartup.addListener(fn);
  api.runtime.onInstalled.addListener(fn);
};
export const onManagedChanged = (fn) =>
  api.storage.onChanged.addListener((changes, area) => {
    const test = "test.managed_override" in changes || "test.clock_offset_ms" in changes;
    if (area === "managed" || (area === "local" && test)) fn();
  });
export const onLocalChanged = (key, fn) =>
  api.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && key in changes) fn();
  });
