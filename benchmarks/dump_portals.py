"""Dump everything the sample-portal server answers, to check that a change to portalcrawl.demo is a no-op.

    python benchmarks/dump_portals.py /tmp/before
    (change portalcrawl/demo/…)
    python benchmarks/dump_portals.py /tmp/after && diff -r /tmp/before /tmp/after

Starts every fixture portal under ``tests/portals/``, the `portalcrawl demo` portal and the portal
files tests write for themselves (with the ``articles=`` overrides tests use), each on a fixed loopback
port so that absolute links are comparable between runs, and writes one file per portal: status,
headers (without ``Date``) and body of every page it serves. The pages are found by following every
link of every page, by every listing-page URL shape of any family up to two pages past the last, by
articles ``-1 … count+2`` (pages 1–3) and their attachments, by Hanweb data-proxy requests over
every record group (and malformed ones), and the same again after ``add_articles`` and
``revise_article``. ``expected_articles`` of every column is dumped too.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import quote, urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portalcrawl.demo.server import DEMO_PORTAL_DIR, PortalServer  # noqa: E402  (after the repository is importable)
from tests.test_crawl_evidence import GBK_PORTAL  # noqa: E402
from tests.test_listing_resume import HANWEB_TOML  # noqa: E402
from tests.test_published_date import AFTER_MIDNIGHT_PORTAL  # noqa: E402

PORTALS_DIR = ROOT / "tests" / "portals"
FIRST_PORT = 20311
# Portal files the tests write for themselves (tests/test_*.py), plus option values no fixture uses.
WRITTEN_PORTALS = {
    "gbk-trs": GBK_PORTAL,
    "after-midnight": AFTER_MIDNIGHT_PORTAL,
    "resume-hanweb": HANWEB_TOML,
    "options": """\
name = "选项示例"
[[columns]]
name = "a"
family = "trs-1based"
path = "/a/"
articles = 13
per_page = 4
first_id = 1999999990
[columns.options]
attachments_every = 1
[[columns]]
name = "b"
family = "destoon"
path = "/b/"
articles = 9
per_page = 3
encoding = "gb18030"
[columns.options]
attachments_every = 0
multipage = [1, 4, 9]
[[columns]]
name = "c"
family = "hanweb-old"
articles = 7
[columns.options]
attachments_every = 2
[[columns]]
name = "d"
family = "govcn"
path = "/d/"
articles = 5
[[columns]]
name = "e"
family = "query"
path = "/e/"
articles = 0
[[columns]]
name = "f"
family = "rss"
path = "/f/"
articles = 3
per_page = 2
[[columns]]
name = "g"
family = "numbered"
path = "/g/"
articles = 1
[[columns]]
name = "h"
family = "dedecms"
path = "/h/"
articles = 11
per_page = 11
[columns.options]
col_id = 9
""",
}
# (portal, articles override) pairs the tests and benchmarks start.
OVERRIDES = (("trs", 400), ("families", 0), ("families", 1), ("families", 46))
LINK = re.compile(r"""(?:href|src|action)=["']([^"'<>]+)["']|<(?:loc|link)>([^<]+)<|"URL": "([^"]+)\"""")
HOME_PATHS = ("/", "/index.html", "/xwzx/", "/bsfw/", "/zwgk/ldxx/", "/login.jsp", "/nothing/here.html")
SAFE = "/?=&%:;,#"
GUIDE_PATHS = tuple(f"/bsfw/guide_{n}.html" for n in range(0, 10))


def listing_shapes(path: str, col_id: int, page: int) -> Iterator[str]:
    """Every listing-page URL shape of any family, for page number ``page``."""
    yield from (
        f"{path}index_{page}.html",
        f"{path}index_{page}.shtml",
        f"{path}list_{col_id}_{page}.html",
        f"{path}list-{col_id}-{page}.html",
        f"{path}list.jsp?page={page}",
        f"{path}{page}.html",
    )


class Walker:
    def __init__(self, server: PortalServer, *, follow: bool) -> None:
        self.server = server
        self.following = follow
        self.seen: set[tuple[str, str, str]] = set()
        self.queue: deque[tuple[str, str, str]] = deque()
        self.records: list[str] = []

    def add(self, path: str, method: str = "GET", body: str = "") -> None:
        key = (method, path, body)
        if key not in self.seen:
            self.seen.add(key)
            self.queue.append(key)

    def walk(self) -> None:
        while self.queue:
            method, path, body = self.queue.popleft()
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            # A connection per request: on a kept-alive one each answer waits out a delayed ACK.
            connection = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
            connection.request(method, quote(path, safe=SAFE), body=body.encode() or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            connection.close()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() != "date"]
            self.records.append(
                f"=== {method} {path} {body}\n{response.status}\n"
                + "".join(f"{k}: {v}\n" for k, v in kept)
                + "\n"
                + data.decode("utf-8", "backslashreplace")
                + "\n"
            )
            if self.following and response.status == 200 and method == "GET":
                self.follow(path, data.decode("utf-8", "replace"))

    def follow(self, path: str, text: str) -> None:
        base = self.server.url(path)
        for match in LINK.finditer(text):
            href = next(group for group in match.groups() if group)
            target = urlsplit(urljoin(base, href.replace("&amp;", "&")))
            if target.scheme == "http" and target.netloc == f"{self.server.host}:{self.server.port}":
                self.add(target.path + (f"?{target.query}" if target.query else ""))


def seed(walker: Walker, server: PortalServer, *, everything: bool) -> None:
    for path in (*HOME_PATHS, *GUIDE_PATHS, "/robots.txt", "/sitemap.xml", "/private/x.html"):
        walker.add(path)
    for column in server.columns.values():
        walker.add(column.start_path)
        walker.add(column.start_path, "HEAD")
        walker.add(column.path)
        walker.add(f"{column.path}index.html")
        walker.add(f"{column.path}home.htm")
        walker.add(f"{column.path}news.xml")
        walker.add(f"{column.path}{column.options.get('json', 'LIST.json')}")
        walker.add(f"/col/col{column.col_id}/")
        pages = range(-1, column.pages + 3) if everything else (0, 1, 2, column.pages, column.pages + 1)
        for page in pages:
            for path in listing_shapes(column.path, column.col_id, page):
                walker.add(path)
        numbers = (
            range(-1, column.count + 3)
            if everything
            else (-1, 0, 1, 2, 3, column.count - 1, column.count, column.count + 1)
        )
        for n in numbers:
            for page in (1, 2, 3):
                walker.add(column.article_path(n, page))
            for attachment in column.attachment_paths(n):
                walker.add(attachment)
                walker.add(attachment + "x")
        if column.family.startswith("hanweb"):
            for proxy in ("/module/web/jpage/dataproxy.jsp", "/module/jpage/dataproxy.jsp"):
                for start in range(1, column.count + 91, 45) if everything else (1, 46):
                    form = {"startrecord": start, "endrecord": start + 44, "perpage": 15}
                    for columnid in (column.col_id, column.col_id + 1):
                        walker.add(proxy, "POST", urlencode({**form, "columnid": columnid}))
                    walker.add(f"{proxy}?{urlencode({**form, 'columnid': column.col_id})}")
                walker.add(proxy, "POST", urlencode({"columnid": column.col_id, "startrecord": "x"}))
                walker.add(proxy, "POST", urlencode({"columnid": column.col_id}))


def dump(server: PortalServer, *, everything: bool = True) -> str:
    walker = Walker(server, follow=everything)
    seed(walker, server, everything=everything)
    walker.walk()
    lines = [f"{name}\t{c.family}\t{server.url(c.start_path)}" for name, c in server.columns.items()]
    if everything:
        for name in server.columns:
            lines.append(json.dumps(server.expected_articles(name), ensure_ascii=False, sort_keys=True))
    return "\n".join(lines) + "\n" + "".join(walker.records)


def dump_changed(server: PortalServer) -> str:
    """The same portal after new articles and revisions, as incremental and revision tests make them."""
    for name, column in server.columns.items():
        if column.count >= 3:
            server.revise_article(name, 2, title="修订后的标题")
            server.revise_article(name, 3, paragraph="更正：本文第二段数字有误。")
            server.revise_article(name, 3, title="再次修订")
        server.add_articles(name, 3)
    return dump(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory to write one dump file per portal into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    port = FIRST_PORT
    with TemporaryDirectory() as tmp:
        portals: list[tuple[str, Path, int | None]] = [
            (p.name, p, None) for p in sorted(PORTALS_DIR.iterdir()) if (p / "portal.toml").exists()
        ]
        portals.append(("demo", DEMO_PORTAL_DIR, None))
        for name, text in WRITTEN_PORTALS.items():
            directory = Path(tmp) / name
            directory.mkdir()
            (directory / "portal.toml").write_text(text, encoding="utf-8")
            portals.append((name, directory, None))
        portals.extend((f"{name}-{count}", PORTALS_DIR / name, count) for name, count in OVERRIDES)
        for name, directory, articles in portals:
            with PortalServer(directory, port=port, articles=articles) as server:
                (args.out / f"{name}.txt").write_text(dump(server), encoding="utf-8")
                (args.out / f"{name}-changed.txt").write_text(dump_changed(server), encoding="utf-8")
            port += 1
        # A portal too big to walk (tests/test_portal_server.py): its first and last pages only.
        with PortalServer(PORTALS_DIR / "trs", port=port, articles=200_000) as server:
            (args.out / "trs-200000.txt").write_text(dump(server, everything=False), encoding="utf-8")
    print(f"{len(list(args.out.iterdir()))} dumps in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
