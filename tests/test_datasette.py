"""`portalcrawl datasette`: a real Datasette on loopback finds what `portalcrawl search` finds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portalcrawl.cli import main
from portalcrawl.database import open_database, upsert_articles
from portalcrawl.items import Article
from portalcrawl.search import search
from tests.conftest import REPO_ROOT, PortalFactory, run_crawl

browse = pytest.importorskip("portalcrawl.browse")
from portalcrawl import datasette_plugin  # noqa: E402 - needs Datasette, checked above

# Words of the fixture portal's articles: two characters (bigram index) and four (trigram index).
QUERIES = ["会议", "工作", "积极开展", "乡村振兴", "不存在的词"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def archive(module_portal_server: PortalFactory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    server = module_portal_server("trs")
    db_path = tmp_path_factory.mktemp("datasette") / "portalcrawl.db"
    result = run_crawl(["-a", f"url={server.start_url('jrjj')}"], db_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return db_path


@pytest.fixture(scope="module")
def datasette_url(archive: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portalcrawl", "datasette", "--db", str(archive), "--port", str(port)],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}/portalcrawl"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + ".json", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"datasette did not start: {process.communicate()[1][-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=10)


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def portalcrawl_search_urls(archive: Path, query: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["search", query, "--json", "--limit", "1000", "--db", str(archive)]) in (0, 1)
    return [json.loads(line)["url"] for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("query", QUERIES)
def test_the_search_query_finds_what_portalcrawl_search_finds(
    archive: Path, datasette_url: str, query: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = get_json(f"{datasette_url}/search.json?{urllib.parse.urlencode({'q': query, '_shape': 'array'})}")
    assert isinstance(rows, list)
    expected = portalcrawl_search_urls(archive, query, capsys)
    assert [row["url"] for row in rows] == expected
    db = open_database(archive, create=False)
    [(containing,)] = db.execute(
        "SELECT count(*) FROM articles WHERE instr(title, ?) > 0 OR instr(body_text, ?) > 0", (query, query)
    ).fetchall()
    db.close()
    assert len(rows) == containing
    if query != "不存在的词":
        assert containing > 0


def test_a_short_word_in_the_table_search_box_goes_to_the_search_query(datasette_url: str) -> None:
    class KeepRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(KeepRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(f"{datasette_url}/articles?{urllib.parse.urlencode({'_search': '会议'})}", timeout=10)
    answer.value.close()
    assert answer.value.code == 302
    assert answer.value.headers["Location"] == "/portalcrawl/search?q=%E4%BC%9A%E8%AE%AE"


def test_articles_page_shows_useful_columns_and_facets_not_body_html(datasette_url: str) -> None:
    with urllib.request.urlopen(f"{datasette_url}/articles", timeout=10) as response:
        page = response.read().decode("utf-8")
    headers = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    for column in ("published_date", "site", "source", "title", "url"):
        assert f'data-column="{column}"' in headers
    assert 'data-column="body_html"' not in headers
    assert 'data-column="body_text"' not in headers
    for facet in ("site", "column", "source", "published_date"):
        assert f'data-column="{facet}"' in page.split('class="facet-results"', 1)[1]
    # The JSON API still has every column.
    rows = get_json(f"{datasette_url}/articles.json?_shape=array&_size=1")
    assert isinstance(rows, list)
    assert "body_html" in rows[0]


@pytest.mark.slow
def test_plain_datasette_of_an_installed_portalcrawl_runs_the_search_query(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`datasette DB --metadata FILE`, without `portalcrawl datasette`: the entry point gives the query
    its SQL function (a plugin module that imported datasette.app broke Datasette's own start)."""
    venv.create(tmp_path / "venv", system_site_packages=True, with_pip=False)
    python = tmp_path / "venv" / "bin" / "python"
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    install = subprocess.run(
        [python, "-m", "pip", "install", *offline, REPO_ROOT],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    metadata = tmp_path / "metadata.json"
    assert main(["datasette", "--db", str(archive), "--metadata", str(metadata)]) == 0
    port = free_port()
    process = subprocess.Popen(
        [python, "-m", "datasette", str(archive), "--metadata", str(metadata), "--port", str(port)],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/portalcrawl/search.json?_shape=array&q=" + urllib.parse.quote("会议")
        deadline = time.monotonic() + 30
        while True:
            try:
                rows = get_json(url)
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"datasette did not start: {process.communicate()[1][-2000:]}")
                time.sleep(0.2)
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert isinstance(rows, list)
    assert [row["url"] for row in rows] == portalcrawl_search_urls(archive, "会议", capsys)
    assert rows


def test_metadata_file_for_plain_datasette(archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "metadata.json"
    assert main(["datasette", "--db", str(archive), "--metadata", str(target)]) == 0
    metadata = json.loads(target.read_text(encoding="utf-8"))
    database = metadata["databases"]["portalcrawl"]
    assert "articles_bigrams" in database["queries"]["search"]["sql"]
    assert database["tables"]["articles"]["facets"] == ["site", "column", "source", "published_date"]


# CJK of the basic block, extension B and the compatibility block; Latin letters with and without
# diacritics; digits; punctuation, quotes and an underscore, which the tokenizer splits on.
ALPHABET = '会议召开园\U00020000\U00020001\uf900aiAé1,_"-'


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet=ALPHABET + " ", max_size=10), min_size=1, max_size=4),
    st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=3), min_size=1, max_size=6),
)
def test_the_search_query_tokenizes_as_portalcrawl_search_does(bodies: list[str], queries: list[str]) -> None:
    """Datasette's search query asks the bigram index through the rule `portalcrawl search` uses, so
    for one word it finds the same articles (a scan would also find ``ai`` inside ``said``)."""
    with tempfile.TemporaryDirectory() as directory:
        db = open_database(Path(directory) / "archive.db")
        articles = [
            Article(url=f"https://x.gov.cn/{n}.html", site="x", title=body[:2], body_text=body)
            for n, body in enumerate(bodies)
        ]
        upsert_articles(db, articles, None)
        datasette_plugin.prepare_connection(db.conn)
        for query in queries:
            found = {row[6] for row in db.execute(browse.SEARCH_SQL, {"q": query})}
            assert found == {match.url for match in search(db, query, limit=100)}, query
        db.close()
