"""Serves a generated fake Livestorm workspace from its own process, for ``livestorm_sync``.

``python -m benchmarks._fake_server SEED EVENTS SESSIONS_PER_EVENT PEOPLE MONTHLY_LIMIT`` prints
``{"base_url", "token"}`` as one JSON line once serving, resets its call log on a ``reset``
line, and prints ``{"calls": N}`` (requests answered since the last reset) and exits when its
stdin closes. In its own process the server does not compete with the code under measurement
for the interpreter lock, as a real API server on another machine would not.
"""

from __future__ import annotations

import json
import sys

from leadbridge_livestorm.testing import FakeLivestorm, generate_workspace


def main() -> None:
    seed, events, sessions, people, monthly = (int(a) for a in sys.argv[1:6])
    workspace = generate_workspace(
        seed=seed, events=events, sessions_per_event=sessions, people=people
    )
    with FakeLivestorm(workspace, rate_limit=None, monthly_limit=monthly) as fake:
        print(json.dumps({"base_url": fake.base_url, "token": fake.token}), flush=True)
        for line in sys.stdin:
            if line.strip() == "reset":
                fake.reset_calls()
                print("ok", flush=True)
        print(json.dumps({"calls": fake.call_count()}), flush=True)


if __name__ == "__main__":
    main()
