"""`portalcrawl worker` and `dispatch` refuse bad arguments with one line, before touching a broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from portalcrawl.cli import main
from portalcrawl.cli.dispatch import plan_batches
from portalcrawl.profiles import SiteProfile
from portalcrawl.sharding import owner_node

BROKER = "redis+socket:///nonexistent/redis.sock"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["worker", "--broker", BROKER, "--node", "a b", "--db", "x.db"], "--node 'a b'"),
        (["worker", "--broker", BROKER, "--node", "a", "--db", "x.db", "-s", "NOPE"], "expected NAME=VALUE"),
        (
            ["worker", "--broker", BROKER, "--node", "a", "--db", "x.db", "--visibility-timeout", "0"],
            "positive",
        ),
        (["worker", "--broker", BROKER, "--node", "a", "--db", "x.db", "--dir", "/nonexistent"], "no such"),
        (["dispatch", "--all", "--broker", BROKER, "--nodes", "a,a"], "distinct names"),
        (["dispatch", "--all", "--broker", BROKER, "--nodes", "a", "--batch", "0"], "--batch 0"),
        (["dispatch", "--broker", BROKER, "--nodes", "a"], "name at least one SITE"),
        (["dispatch", "no-such-site", "--broker", BROKER, "--nodes", "a"], "unknown site 'no-such-site'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


def test_batches_go_to_the_owning_node_with_one_hosts_profiles_together() -> None:
    profiles = [
        SiteProfile(slug=f"s{n}", name="s", start_urls=(f"http://h{n % 5}.gov.cn/c{n}/",)) for n in range(20)
    ]
    nodes = ["a", "b", "c"]
    batches = plan_batches(profiles, nodes, 3)
    by_slug = {p.slug: p for p in profiles}
    assert sorted(slug for _, slugs in batches for slug in slugs) == sorted(by_slug)
    for node, slugs in batches:
        assert len(slugs) <= 3
        assert all(owner_node(by_slug[slug], nodes) == node for slug in slugs)
    # Within a node, profiles come in host order, so a host's profiles are adjacent.
    for node in nodes:
        order = [by_slug[s].start_urls[0].split("/")[2] for n, slugs in batches if n == node for s in slugs]
        assert order == sorted(order)
