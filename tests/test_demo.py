"""`portalcrawl demo` on a fresh install: offline, in seconds, with rows in demo.db and a search shown."""

from __future__ import annotations

import time
from pathlib import Path

import sqlite_utils

from tests.conftest import run_cli


def test_demo_crawls_the_sample_portal_into_a_fresh_database(tmp_path: Path) -> None:
    stale = tmp_path / "output" / "demo.db"
    stale.parent.mkdir()
    stale.write_bytes(b"not a database left over from an older version")
    started = time.monotonic()
    result = run_cli(["demo"], tmp_path, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    db = sqlite_utils.Database(stale)
    articles = db["articles"].count
    assert articles > 0
    out = result.stdout
    assert f"{articles} articles harvested" in out
    assert out.splitlines()[1].split()[:4] == ["column", "family", "status", "pages"]
    # One crawl_runs row and one site per column of the sample portal, named after the column.
    runs = list(db["crawl_runs"].rows)
    assert len(runs) >= 3
    assert {run["site"] for run in runs} == {article["site"] for article in db["articles"].rows}
    assert len({run["site"] for run in runs}) == len(runs)
    search_line = next(line for line in out.splitlines() if line.startswith("portalcrawl search "))
    assert search_line.endswith(" newest matches:")
    assert not search_line.endswith("→ 0 newest matches:")
    # Every column shows errors 1: the withdrawn article each sample column lists; the output says so.
    assert {run["errors"] for run in runs} == {1}
    assert "Each sample column lists one withdrawn article that answers 404" in out
    assert "portalcrawl errors --db" in out
    assert list((tmp_path / "output" / "logs").glob("demo-*.log"))
    assert elapsed < 60
