"""Chromium for tests: Debian's /usr/bin/chromium, offline flags, a fresh profile each time."""

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Without these Chromium tries to reach Google's services and floods the closed network.
OFFLINE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
]


def chromium_args(*extra: str) -> list[str]:
    return [*OFFLINE_ARGS, *extra]


def artifact_path(name: str) -> Path:
    """Where a test saves a screenshot or file for people to look at afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def have_chromium() -> bool:
    return os.access(CHROMIUM, os.X_OK)
