"""Helpers shared by the tests: free ports, waiting for servers, launching Chromium offline.

Starting a real process costs a few CPU seconds (`serve` about 2, mitmdump about 3, Chromium
about 1.5), and the suite's time goal (issue 15 section 3) is spent mostly on them. So:

Shared (the default; start it once per module with a module-scoped fixture):
- a proxy: `start_proxy` in a `scope="module"` fixture, and per test `proxy.as_new_device()`
  (proxy.py): the same process seen from a client address no other test used, so allowances,
  tickets and held acts start empty, and `outbox_events` shows only this test's events; the
  upstream's `since_now()` (upstream.py) shows only the requests this test made reach it.
  Examples: tests/security/test_held_acts.py, tests/proxy/test_proxy_ticket.py.
- a service for in-process tests: aiohttp's test client on `create_app(Config(data_dir=
  migrated(folder)))` (service.py `migrated`: a copy of a database migrated once per test
  process, instead of running every migration again); the `cli` and `config` fixtures of
  tests/service/conftest.py already do this.
- a real `serve`: `Service` (service.py) in a module-scoped fixture; per test a fresh sensor
  (`seed_store(service.data, {}, ["a-new-name"])`) or user keeps tests apart by their data.
  The extension's browser tests share one service, site and Chromium per module (extension.py).
- Chromium: one browser per module (`pw.chromium.launch(...)` in a module fixture), a new
  context per test (`browser.new_context()`), which starts with no cookies or storage.

Fresh (a function-scoped fixture, or started inside the test), only where the test needs it:
the process is stopped, killed or restarted (shipping after a crash, the service down), it
starts with options of its own (a full outbox, a wrong sensor name, another config), its log or
files must hold nothing but this test's doing, or migrating itself is tested (an empty data
folder, not `migrated`).
"""
