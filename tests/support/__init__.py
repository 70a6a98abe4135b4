"""Helpers shared by the tests: free ports, waiting for servers, launching Chromium offline."""
