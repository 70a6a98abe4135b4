"""The ClauseWarden mitmproxy addon: `mitmdump -s proxy_addon/addon.py` or `clausewarden proxy`."""
