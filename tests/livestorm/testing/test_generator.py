"""The workspace generator: deterministic, varied, and able to scale."""

from __future__ import annotations

import tracemalloc
from collections import Counter

from leadbridge_livestorm.testing import DEFAULT_NOW, Workspace, generate_workspace


def _fingerprint(ws: Workspace) -> list[tuple[object, ...]]:
    return [
        (
            reg.person.id,
            reg.person.email,
            reg.person.first_name,
            reg.session_id,
            reg.created_at,
            reg.updated_at,
            reg.attended,
            reg.attendance_rate,
            reg.replay_watched_at,
            reg.messages_count,
            tuple(sorted((k, str(v)) for k, v in reg.answers.items())),
        )
        for reg in ws.iter_registrations()
    ]


def test_the_same_seed_gives_the_same_workspace() -> None:
    one = generate_workspace(seed=42, people=300)
    two = generate_workspace(seed=42, people=300)
    other = generate_workspace(seed=43, people=300)

    assert _fingerprint(one) == _fingerprint(two)
    assert list(one.events) == list(two.events)
    assert list(one.sessions) == list(two.sessions)
    assert _fingerprint(one) != _fingerprint(other)


def test_the_data_has_every_pattern_the_integration_meets() -> None:
    ws = generate_workspace(seed=3, events=4, sessions_per_event=3, people=400)
    participants = [p for p in ws.people.values() if not p.is_team_member]
    registrations = [r for r in ws.iter_registrations() if not r.person.is_team_member]
    ran = [r for r in registrations if ws.sessions[r.session_id].ended_at]
    per_person = Counter(r.person.id for r in registrations)

    assert len(participants) == 400
    assert sum(1 for p in participants if p.email is None) == 8  # 2 %
    assert sum(1 for count in per_person.values() if count > 1) == 60  # 15 %
    assert {s.status for s in ws.sessions.values()} == {"past", "upcoming"}
    assert all(s.duration and s.ended_at > s.started_at for s in ws.sessions.values() if s.ended_at)
    assert any(r.attended and r.attendance_rate and r.attendance_duration for r in ran)
    assert any(not r.attended and r.attendance_rate is None for r in ran)
    assert any(r.replay_watched_at for r in ran)
    assert any(r.messages_count and r.questions_count is not None for r in ran)
    assert not any(r.attended for r in registrations if r not in ran)
    assert {r.answers["department"] for r in registrations} >= {"sales", "marketing"}
    assert any(len(r.answers["interests"]) > 1 for r in registrations)
    assert any(r.answers["company"] for r in registrations)
    team = [r for r in ws.iter_registrations() if r.person.is_team_member]
    assert len(team) == 2 * len(ws.sessions)
    assert all(r.created_at <= r.updated_at <= DEFAULT_NOW for r in ws.iter_registrations())


def test_sessions_and_events_are_stamped_no_earlier_than_their_registrations() -> None:
    ws = generate_workspace(seed=8, people=200)

    for session in ws.sessions.values():
        assert session.updated_at >= max(r.updated_at for r in session.registrations.values())
        assert ws.events[session.event_id].updated_at >= session.updated_at
        assert session.created_at < session.estimated_started_at


def test_unique_emails_count_each_address_once() -> None:
    ws = generate_workspace(seed=9, people=250)

    emails = ws.unique_emails()

    expected = {p.email.lower() for p in ws.people.values() if p.email and not p.is_team_member}
    assert emails == expected
    assert len(emails) == 250 - 5  # 2 % without email


def test_it_scales_to_20000_people_over_200_sessions_in_modest_memory() -> None:
    # Peak of what Python allocated while generating (RSS would count freed pools and other
    # tests' leftovers): about 22 MiB when measured.
    tracemalloc.start()
    try:
        ws = generate_workspace(seed=1, events=100, sessions_per_event=2, people=20_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(ws.sessions) == 200
    assert sum(1 for p in ws.people.values() if not p.is_team_member) == 20_000
    assert sum(len(s.registrations) for s in ws.sessions.values()) > 20_000
    assert peak < 64 * 1024 * 1024
