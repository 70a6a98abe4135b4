"""The ClauseWarden mitmproxy addons: `mitmdump -s proxy_addon/addon.py` or `clausewarden proxy`."""
