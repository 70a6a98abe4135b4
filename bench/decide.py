"""Speed of the policy core: decisions per second and p50/p99 on a realistic mix.

Run: .venv/bin/python bench/decide.py [--n 200000]
Prints: the mix (90 % non-social hosts), cached and cold host figures separately, a plain
dict lookup as the floor measured in the same run, and the memory of the loaded catalogue.
"""

import argparse
import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime

from policy import Facts, Policy, decide
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir
from policy.hosts import _split

NAV = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
SUB = {"sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
COMMON = [
    "www.bbc.co.uk",
    "www.gov.uk",
    "classroom.google.com",
    "docs.google.com",
    "outlook.office.com",
    "teams.microsoft.com",
    "www.twinkl.co.uk",
    "www.khanacademy.org",
    "login.microsoftonline.com",
    "fonts.gstatic.com",
    "cdn.jsdelivr.net",
    "www.purplemash.com",
    "ttrockstars.com",
    "www.amazon.co.uk",
    "www.theguardian.com",
    "update.googleapis.com",
    "clients4.google.com",
    "www.oaknational.org.uk",
]
SOCIAL = [
    "www.facebook.com",
    "x.com",
    "www.instagram.com",
    "www.linkedin.com",
    "www.youtube.com",
    "en.wikipedia.org",
    "web.whatsapp.com",
    "www.tiktok.com",
    "www.reddit.com",
    "static.xx.fbcdn.net",
]


def percentile(values: list[int], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] / 1000


def run(label: str, policy: Policy, facts: list[Facts]) -> None:
    timings = []
    start = time.perf_counter()
    for f in facts:
        t0 = time.perf_counter_ns()
        decide(f, policy)
        timings.append(time.perf_counter_ns() - t0)
    elapsed = time.perf_counter() - start
    p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
    mean = statistics.fmean(timings) / 1000
    print(
        f"{label:<44} {len(facts) / elapsed:>10,.0f}/s  "
        f"p50 {p50:6.2f} µs  p99 {p99:6.2f} µs  mean {mean:6.2f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(7)
    bundle = compile_bundle(load_config_dir())

    tracemalloc.start()
    policy = Policy.from_bundle(bundle)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

    def make(host: str, nav: bool) -> Facts:
        return Facts(host=host, path="/", headers=NAV if nav else SUB, at=at, client="10.0.0.5")

    # Realistic mix: 90 % non-social (Zipf-like reuse of a few hundred hosts), 10 % social.
    pool = [
        f"{rng.choice(['www', 'cdn', 'api', 'static'])}{i}.{rng.choice(COMMON)}" for i in range(300)
    ]
    mix = []
    for _ in range(args.n):
        if rng.random() < 0.9:
            mix.append(
                make(pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)], rng.random() < 0.2)
            )
        else:
            mix.append(make(rng.choice(SOCIAL), rng.random() < 0.3))
    warm_nonsocial = [make(rng.choice(pool), False) for _ in range(args.n // 2)]
    warm_social_nav = [make(rng.choice(SOCIAL[:9]), True) for _ in range(args.n // 2)]
    for f in warm_nonsocial + warm_social_nav + mix:  # fill the caches once
        decide(f, policy)
    cold = [
        make(f"h{i}-{rng.randrange(10**9)}.example-school-{i % 97}.org.uk", False)
        for i in range(min(args.n, 50_000))
    ]

    floor = {f.host: 1 for f in warm_nonsocial}
    t0 = time.perf_counter_ns()
    for f in warm_nonsocial:
        floor.get(f.host)
    dict_ns = (time.perf_counter_ns() - t0) / len(warm_nonsocial)

    print(
        f"catalogue: {len(policy.platforms)} platforms, {len(bundle['rules'])} rules; "
        f"loaded policy holds {current / 1024:,.0f} KiB (tracemalloc)"
    )
    run("realistic mix (90 % non-social), cached", policy, mix)
    run("non-social host, cached", policy, warm_nonsocial)
    run("social navigation, cached host", policy, warm_social_nav)
    _split.cache_clear()
    policy.classifier.platform_for.cache_clear()
    run("non-social host, cold (never seen)", policy, cold)
    print(f"floor: a plain dict.get(host) in this run: {dict_ns / 1000:.3f} µs")
    print("goals: cached non-social p99 <= 10 µs; social navigation p99 <= 50 µs")


if __name__ == "__main__":
    main()
