"""The proxy's own host name, defined once for the proxy, the PAC file and the doctor."""

PAGES_HOST = "clausewarden.internal"
"""The proxy's own host (as mitmproxy has mitm.it): the CA page, what this device recorded today,
the privacy notice, Tell the Headteacher and the PAC file are answered here by the proxy itself,
never upstream, so no script of a social site (its origin differs) can read them. `.internal` is
reserved for private use: it never resolves on the internet."""
