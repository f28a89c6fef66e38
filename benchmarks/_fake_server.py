"""Serves a generated fake Livestorm workspace from its own process, for ``livestorm_sync``.

``python -m benchmarks._fake_server SEED EVENTS SESSIONS_PER_EVENT PEOPLE MONTHLY_LIMIT
[RATE_LIMIT]`` prints ``{"base_url", "token"}`` as one JSON line once serving, resets its call
log on a ``reset`` line, and prints ``{"calls": N, "throttled": M, "span": S}`` (requests
answered since the last reset, how many got a 429, seconds from the first to the last
arrival) and exits when its stdin closes. ``RATE_LIMIT`` (default 0: off) turns the fake's
burst limit on, that many requests per second. In its own process the server does not
compete with the code under measurement for the interpreter lock, as a real API server on
another machine would not.
"""

from __future__ import annotations

import json
import sys

from leadbridge_livestorm.testing import FakeLivestorm, generate_workspace


def main() -> None:
    seed, events, sessions, people, monthly = (int(a) for a in sys.argv[1:6])
    rate_limit = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    workspace = generate_workspace(
        seed=seed, events=events, sessions_per_event=sessions, people=people
    )
    with FakeLivestorm(workspace, rate_limit=rate_limit or None, monthly_limit=monthly) as fake:
        print(json.dumps({"base_url": fake.base_url, "token": fake.token}), flush=True)
        for line in sys.stdin:
            if line.strip() == "reset":
                fake.reset_calls()
                print("ok", flush=True)
        throttled = sum(1 for request in fake.requests if request.status == 429)
        arrivals = [request.received_at for request in fake.requests]
        span = max(arrivals) - min(arrivals) if arrivals else 0.0
        counts = {"calls": fake.call_count(), "throttled": throttled, "span": span}
        print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
