"""`portalcrawl merge`: shards crawled from loopback portals fold into the archive one machine would make."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from portalcrawl.database import finish_run, open_database, record_fetch_error, start_run, upsert_articles
from portalcrawl.items import Article
from portalcrawl.merge import MergeError, merge_shard
from portalcrawl.search import search
from tests.conftest import FAST_SETTINGS, REPO_ROOT, PortalFactory, run_cli

PORTALS = ("trs", "dedecms", "destoon", "numbered")
QUERIES = ("通知", "工作", "安全生产", "政府", "会议")


def portalcrawl(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args, REPO_ROOT, timeout=180)


def portalcrawl_process(*args: str) -> subprocess.Popen[str]:
    fast = [arg for name, value in FAST_SETTINGS.items() for arg in ("-s", f"{name}={value}")]
    return subprocess.Popen(
        [sys.executable, "-m", "portalcrawl", *args, *fast],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def archive(path: Path) -> dict[str, Any]:
    """What must be equal between a merged archive and a single-machine one."""
    db = sqlite_utils.Database(path)
    articles = sorted(
        db.execute("select url, site, title, body_text, content_hash, published_at from articles")
    )
    versions = sorted(db.execute("select url, title, body_text, content_hash from article_versions"))
    searches = {query: len(search(db, query, limit=10_000)) for query in QUERIES}
    runs = sorted(db.execute("select site, status, new_articles, updated_articles from crawl_runs"))
    errors = sorted(
        db.execute("select r.site, e.url from fetch_errors e join crawl_runs r on r.id = e.run_id")
    )
    fts = db.execute("select count(*) from articles_fts where articles_fts match '\"人民政府\"'").fetchone()[
        0
    ]
    db.close()
    return {
        "articles": articles,
        "versions": versions,
        "searches": searches,
        "runs": runs,
        "errors": errors,
        "fts": fts,
    }


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, module_portal_server: PortalFactory) -> dict[str, Any]:
    """A single-machine archive and two shards of the same four portals, each crawled twice."""
    tmp = tmp_path_factory.mktemp("merge")
    servers = {name: module_portal_server(name) for name in PORTALS}
    sites = tmp / "sites"
    sites.mkdir()
    for name, server in servers.items():
        column = next(iter(server.columns))
        (sites / f"{name}.toml").write_text(
            f'name = "{name}"\nstart_urls = ["{server.start_url(column)}"]\n', encoding="utf-8"
        )
    single, shard_a, shard_b = tmp / "single.db", tmp / "a.db", tmp / "b.db"
    split = {shard_a: ["trs", "dedecms"], shard_b: ["destoon", "numbered"]}
    for round_number in (1, 2):
        # The second round is full, so that revised articles are refetched and versions kept.
        full = ["--full"] if round_number == 2 else []
        crawls = [
            portalcrawl_process("crawl", *slugs, *full, "--dir", str(sites), "--db", str(db))
            for db, slugs in [(single, list(PORTALS)), *split.items()]
        ]
        for crawl in crawls:
            out, err = crawl.communicate(timeout=180)
            assert crawl.returncode == 0, out + err
        if round_number == 1:
            # Between the rounds two portals revise an article and publish new ones.
            for name in ("trs", "destoon"):
                column = next(iter(servers[name].columns))
                servers[name].revise_article(column, 3, title="修订后的标题 关于安全生产的通知")
                servers[name].add_articles(column, 2)
    return {"tmp": tmp, "single": single, "shards": [shard_a, shard_b]}


def test_merged_shards_equal_the_single_machine_archive_and_a_second_merge_adds_nothing(
    crawled: dict[str, Any],
) -> None:
    central = crawled["tmp"] / "central.db"
    shards = [str(shard) for shard in crawled["shards"]]
    first = portalcrawl("merge", "--db", str(central), *shards)
    assert first.returncode == 0, first.stderr
    merged, expected = archive(central), archive(crawled["single"])
    assert len(expected["articles"]) > 100 and len(expected["versions"]) == 2
    assert merged == expected
    db = sqlite_utils.Database(central)
    nodes = dict(db.execute("select node, count(*) from crawl_runs group by node").fetchall())
    assert nodes == {"a": 4, "b": 4}
    runs = portalcrawl("runs", "--db", str(central))
    assert runs.returncode == 0, runs.stderr
    header, *rows = runs.stdout.splitlines()
    assert header.split()[:3] == ["run", "site", "node"]
    assert sorted(row.split()[2] for row in rows) == ["a"] * 4 + ["b"] * 4
    assert db.execute("select count(*) from articles where first_seen_run_id is null").fetchone()[0] == 0
    db.close()
    second = portalcrawl("merge", "--db", str(central), *shards)
    assert second.returncode == 0, second.stderr
    lines = second.stdout.splitlines()
    assert len(lines) == 2 and all("; 0 rows in " in line for line in lines), second.stdout
    assert archive(central) == expected


def test_listing_state_comes_along_and_a_shard_seeded_from_the_central_archive_merges_back_to_nothing(
    crawled: dict[str, Any],
) -> None:
    tmp = crawled["tmp"]
    central_path, seeded_path = tmp / "central-seed.db", tmp / "new-node.db"
    central = open_database(central_path)
    for shard in crawled["shards"]:
        merge_shard(central, shard, tmp)
    single = sqlite_utils.Database(crawled["single"])
    expected = sorted(single.execute("select site, start_url from listing_state"))
    single.close()
    states = central.execute(
        "select l.site, l.start_url, r.site from listing_state l "
        "join crawl_runs r on r.id = l.last_complete_run_id"
    ).fetchall()
    assert sorted((site, url) for site, url, _ in states) == expected
    assert all(site == run_site for site, _, run_site in states)
    # A site moves to a new node: its shard is seeded from the central archive, then merged back.
    seeded = open_database(seeded_path)
    archived = central.execute("select count(*) from articles").fetchone()[0]
    assert merge_shard(seeded, central_path, tmp)[1].articles_new == archived > 0
    seeded.close()
    assert merge_shard(central, seeded_path, tmp)[1].rows == 0
    central.close()


def article(url: str, title: str, fetched_at: str, body: str = "正文内容") -> Article:
    return Article(url=url, site="s", title=title, body_text=f"{title} {body}", fetched_at=fetched_at)


def make_shard(path: Path, *batches: list[Article]) -> None:
    db = open_database(path)
    for batch in batches:
        upsert_articles(db, batch, run_id=None)
    db.close()


@pytest.mark.parametrize("order", [("old", "new"), ("new", "old")])
def test_the_newest_fetch_wins_in_either_order_and_the_other_becomes_a_version(
    tmp_path: Path, order: tuple[str, str]
) -> None:
    url = "http://a.gov.cn/1.html"
    make_shard(tmp_path / "old.db", [article(url, "旧标题关于会议", "2026-01-01T00:00:00+00:00")])
    make_shard(tmp_path / "new.db", [article(url, "新标题关于会议", "2026-02-01T08:00:00+08:00")])
    central = open_database(tmp_path / "central.db")
    for name in order:
        merge_shard(central, tmp_path / f"{name}.db", tmp_path)
    assert central.execute("select title from articles").fetchall() == [("新标题关于会议",)]
    assert central.execute("select title from article_versions").fetchall() == [("旧标题关于会议",)]
    assert [m.title for m in search(central, "新标题")] == ["新标题关于会议"]
    assert search(central, "旧标题") == [] and search(central, "旧") == []
    assert [m.title for m in search(central, "新")] == ["新标题关于会议"]
    for name in order:
        assert merge_shard(central, tmp_path / f"{name}.db", tmp_path)[1].rows == 0


def test_a_shard_is_read_as_a_snapshot_without_its_uncommitted_writes(tmp_path: Path) -> None:
    shard_path = tmp_path / "shard.db"
    make_shard(shard_path, [article("http://a.gov.cn/1.html", "第一篇", "2026-01-01T00:00:00+00:00")])
    writer = sqlite3.connect(shard_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "insert into articles (url, site, title, first_seen_at) "
        "values ('http://a.gov.cn/2.html', 's', '第二篇', 'x')"
    )
    central = open_database(tmp_path / "central.db")
    # A search holds a read transaction on the central archive throughout.
    reader = sqlite3.connect(tmp_path / "central.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("select count(*) from articles").fetchone()
    assert merge_shard(central, shard_path, tmp_path)[1].articles_new == 1
    writer.execute("COMMIT")
    assert merge_shard(central, shard_path, tmp_path)[1].articles_new == 1
    reader.execute("COMMIT")
    assert sorted(central.execute("select title from articles").fetchall()) == [("第一篇",), ("第二篇",)]
    assert not list(tmp_path.glob(".merge-*"))


def test_merging_an_archive_into_itself_is_refused(tmp_path: Path) -> None:
    make_shard(tmp_path / "a.db", [article("http://a.gov.cn/1.html", "标题", "2026-01-01T00:00:00+00:00")])
    central = open_database(tmp_path / "a.db")
    with pytest.raises(MergeError, match="central archive itself"):
        merge_shard(central, tmp_path / "a.db", tmp_path)
    missing = portalcrawl("merge", "--db", str(tmp_path / "c.db"), str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and "nope.db: no such file" in missing.stderr


def test_a_run_still_going_at_one_merge_is_brought_up_to_date_by_the_next(tmp_path: Path) -> None:
    shard = open_database(tmp_path / "shard.db")
    run_id = start_run(shard, "s", {})
    upsert_articles(shard, [article("http://a.gov.cn/1.html", "标题", "2026-01-01T00:00:00+00:00")], run_id)
    central = open_database(tmp_path / "central.db")
    first = merge_shard(central, tmp_path / "shard.db", tmp_path)[1]
    assert (first.runs, first.articles_new) == (1, 1)
    assert central.execute("select status from crawl_runs").fetchall() == [("running",)]
    record_fetch_error(shard, run_id, "http://a.gov.cn/2.html", 404, "HTTP 404")
    finish_run(shard, run_id, status="ok", new_articles=1, errors=1)
    second = merge_shard(central, tmp_path / "shard.db", tmp_path)[1]
    assert (second.runs, second.runs_updated, second.fetch_errors, second.articles_new) == (0, 1, 1, 0)
    assert central.execute("select status, errors, node from crawl_runs").fetchall() == [("ok", 1, "shard")]
    (merged_run,) = central.execute("select id from crawl_runs").fetchone()
    assert central.execute("select run_id, url from fetch_errors").fetchall() == [
        (merged_run, "http://a.gov.cn/2.html")
    ]
    assert central.execute("select first_seen_run_id from articles").fetchall() == [(merged_run,)]
    assert merge_shard(central, tmp_path / "shard.db", tmp_path)[1].rows == 0
