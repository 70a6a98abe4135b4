"""CPU cost of starting a CLI command: `check` and `config validate` against their floors.

Each command runs N times in a fresh process; CPU is the children's user+system time from
getrusage, so other load on the machine inflates it less than wall time would. Printed beside:
a bare interpreter, the libraries' own floor (pydantic, PyYAML and tldextract with its trie,
which `check` cannot avoid), and `--help`, which imports every command as every command did
before the CLI imported only the one it runs (mitmproxy and the service included).

Usage: .venv/bin/python bench/cli_startup.py [--runs 10]
"""

import argparse
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "clausewarden"]
LIBRARY_FLOOR = (
    "import pydantic, yaml, tldextract; "
    "tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)('www.example.co.uk')"
)
CASES = {
    "bare python": [sys.executable, "-c", "pass"],
    "library floor": [sys.executable, "-c", LIBRARY_FLOOR],
    "check": [*CLI, "check", "https://www.facebook.com/", "--at", "2026-11-25T10:00:00Z"],
    "config validate": [*CLI, "config", "validate"],
    "--help (imports all)": [*CLI, "--help"],
}


def cpu_seconds(command: list[str], runs: int) -> float:
    """Median CPU seconds of one run of `command`."""
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    samples.sort()
    return samples[len(samples) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    results = {name: cpu_seconds(command, runs) for name, command in CASES.items()}
    floor = results["library floor"]
    everything = results["--help (imports all)"]
    print(f"CPU seconds per start, median of {runs} (goal: check and validate under 0.3 s)")
    for name, seconds in results.items():
        print(
            f"  {name:<22} {seconds:6.3f} s   x{seconds / floor:4.2f} of library floor"
            f"   x{seconds / everything:4.2f} of importing every command"
        )


if __name__ == "__main__":
    main()
