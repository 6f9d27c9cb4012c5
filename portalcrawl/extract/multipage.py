"""Multi-page articles: the pager's further pages of an article, and the pages joined into one Article."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml import etree

from portalcrawl.extract.encoding import decode_html
from portalcrawl.extract.html import parse_tree
from portalcrawl.extract.lines import content_hash
from portalcrawl.items import Article

# Hrefs that can name a page of a multi-page article: a numbered file (``_2.html``, ``-2.html``) or a page
# query parameter. Checked on the raw href so that the many other links of a page cost one search each.
PAGER_HREF = re.compile(r"[_-]\d{1,3}\.[A-Za-z]{2,5}(?:[?#]|$)|[?&](?:page|p|pageno|pg)=\d", re.IGNORECASE)


# An article page's path, and the path of one of its further pages (the same stem and extension).
# Further pages of one article the spider fetches at most: real ones have a few; a page numbering a
# thousand would cost a thousand sequential requests.
MAX_CONTINUATION_PAGES = 100
ARTICLE_PATH = re.compile(r"^(?P<stem>.*?)(?P<ext>\.[A-Za-z]{2,5})?$")
EXPLICIT_FIRST_PAGE = re.compile(r"^(?P<stem>.*)[_-]1$")
CONTINUATION_PATH = re.compile(r"^(?P<stem>.*)[_-](?P<page>\d{1,3})(?P<ext>\.[A-Za-z]{2,5})?$")


def continuation_pages(html_page: str | bytes, url: str) -> list[str]:
    """Further pages of a multi-page article in page order (``_2.html``, ``-2.html``, ``?page=2``).

    ``extract_article`` already lists them after the page itself in ``Article.page_urls``; this is for
    callers that only need the pager.
    """
    if isinstance(html_page, bytes):
        html_page, _ = decode_html(html_page)
    return continuation_links(parse_tree(html_page), url)


def continuation_links(tree: etree._Element, url: str) -> list[str]:
    here = urlsplit(url)
    path_match = ARTICLE_PATH.match(here.path)
    if path_match is None:
        return []
    stems = {path_match["stem"]}
    if explicit_first := EXPLICIT_FIRST_PAGE.match(path_match["stem"]):
        stems.add(explicit_first["stem"])
    ext = path_match["ext"] or ""
    here_query = dict(parse_qsl(here.query))
    # A further page's link names the article's file (``c1013-31153719-2.html``) or has a query; a
    # substring test spares the regex on the page's other links.
    names = {stem.rsplit("/", 1)[-1] for stem in stems}
    pages: dict[int, str] = {}
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip()
        if "?" not in href and "" not in names and not any(name in href for name in names):
            continue
        if not PAGER_HREF.search(href):
            continue
        target = urlsplit(urljoin(url, href))
        if target.netloc != here.netloc:
            continue
        number: int | None = None
        if (
            (match := CONTINUATION_PATH.match(target.path))
            and match["stem"] in stems
            and (match["ext"] or "") == ext
        ):
            number = int(match["page"])
        if number is None and target.path == here.path and target.query != here.query:
            query = dict(parse_qsl(target.query))
            key = next(
                (k for k in ("page", "p", "pageno", "PageNo", "pg") if query.get(k, "").isdigit()), None
            )
            if key and {k: v for k, v in query.items() if k != key} == {
                k: v for k, v in here_query.items() if k != key
            }:
                number = int(query[key])
        if number is not None and number >= 2:
            pages.setdefault(number, target._replace(fragment="").geturl())
    current = here.geturl()
    further = [page_url for _, page_url in sorted(pages.items()) if page_url != current]
    return further[:MAX_CONTINUATION_PAGES]


def joined_body(title: str | None, texts: list[str]) -> tuple[str, str]:
    """The body text of an article from its pages' body texts, and its ``content_hash``.

    Each page's text is ``strip_boilerplate``'s output, and their join is too: stripping judges each
    line alone and ends a text only at a widget heading, a line it never keeps. So the joined text is
    as clean as its pages, and nothing after extraction needs to strip it again.
    """
    body_text = "\n".join(text for text in texts if text)
    return body_text, content_hash(title, body_text)


def merge_pages(first: Article, others: list[Article]) -> Article:
    """One article from its first page and its continuation pages (text, HTML, files and images joined)."""
    if not others:
        return first
    body_text, body_hash = joined_body(first.title, [first.body_text, *(o.body_text for o in others)])
    attachments = {a["url"]: a for page in (first, *others) for a in page.attachments}
    images = dict.fromkeys(i for page in (first, *others) for i in page.images)
    # The pages joined, not every page the pager named: a continuation that failed is not in the text.
    page_urls = list(dict.fromkeys([*(first.page_urls or [first.url])[:1], *(o.url for o in others)]))
    # A closing byline sits on the last page; so may the editor line.
    author = first.author or next((o.author for o in reversed(others) if o.author), None)
    editor = first.editor or next((o.editor for o in reversed(others) if o.editor), None)
    stages = dict(first.field_stages)
    for field, value in (("author", author), ("editor", editor)):
        if value and not getattr(first, field):
            source_page = next(o for o in reversed(others) if getattr(o, field) == value)
            stages[field] = source_page.field_stages.get(field, "meta_line")
    return replace(
        first,
        author=author,
        editor=editor,
        body_text=body_text,
        body_html="\n".join(h for h in [first.body_html, *(o.body_html for o in others)] if h),
        attachments=list(attachments.values()),
        images=list(images),
        page_urls=page_urls,
        content_hash=body_hash,
        field_stages=stages,
    )
