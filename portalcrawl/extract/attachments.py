"""Document attachments of an article: links in or right after the body, and links written by inline JS."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree

from portalcrawl.extract import families
from portalcrawl.extract.content import clean_line, inline_scripts, text_content
from portalcrawl.extract.documents import DOCUMENT_EXTENSIONS

EXTENSION_RE = re.compile(r"\.([A-Za-z0-9]{1,5})$")
# A link text, title or download attribute that names a document: "附件1：岗位表.xlsx".
NAMED_DOCUMENT_RE = re.compile(r"\.([A-Za-z0-9]{1,5})\s*[)）]?\s*$")
# Download handlers that serve a file by id, with no extension in the URL (the families' forms: Hanweb
# /module/download/downfile.jsp?classid=…, and download.jsp?id=…, .do / .action / .aspx handlers).
DOWNLOAD_HANDLER_RE = re.compile("|".join(families.DOWNLOAD_HANDLERS), re.IGNORECASE)
# Query parameters that carry the document's own name or path.
FILE_PARAMS = ("filename", "file", "fileName", "name", "fileurl", "path")
# Pages that show a document passed in ``?file=``: the document itself is what to record.
VIEWER_PATH_RE = re.compile(r"viewer|preview|pdfjs|\.s?html?$", re.IGNORECASE)
# Links that inline scripts write into the page: var rel_appendix = '<a href="./P0….doc">…</a>'.
SCRIPT_LINK_RE = re.compile(r"""<a\s[^>]*?href\s*=\s*\\?["']([^"'\\]+)\\?["'][^>]*>([^<]*)""", re.IGNORECASE)
# How far past the body an attachment block may sit: siblings after the body container, at this many
# levels of ancestors (`<div class="TRS_Editor">…</div><div class="fj">附件：…</div>`).
FOLLOWING_LEVELS = 3
FOLLOWING_SIBLINGS = 4
# A block after the body counts only when it says it holds attachments, by its words or its class/id;
# a sidebar of related documents sits there too.
ATTACHMENT_BLOCK_RE = re.compile(r"fj|fujian|attach|appendix|enclosure|download|xgwj|附件")


def attachment_extension(href: str) -> str | None:
    """The document extension of a link, from its path or a ``filename=`` query (Hanweb downfile.jsp)."""
    parts = urlsplit(href.strip())
    if parts.scheme not in ("", "http", "https"):
        return None
    candidates = [unquote(parts.path)]
    query = parse_qs(parts.query)
    candidates += [value for key in FILE_PARAMS for value in query.get(key, [])]
    for candidate in candidates:
        match = EXTENSION_RE.search(candidate)
        if match and match.group(1).lower() in DOCUMENT_EXTENSIONS:
            return match.group(1).lower()
    return None


def names_document(text: str | None) -> bool:
    """Whether a link's text, title or download name ends in a document extension."""
    match = NAMED_DOCUMENT_RE.search(text or "")
    return match is not None and match.group(1).lower() in DOCUMENT_EXTENSIONS


def document_url(href: str, base_url: str, *, named: bool = False) -> str | None:
    """The absolute URL of the document a link leads to, or None when it is no document link.

    A viewer page (``viewer.html?file=/upload/a.pdf``) leads to its ``file``; a download handler
    (``downfile.jsp?…``, ``download.jsp?id=…``) and a link whose text names a document (``named``) are
    the document themselves, whatever their URL looks like. Called for every link around the body: the
    common case (a page path, no query) costs one split and one search.
    """
    href = href.strip()
    parts = urlsplit(href)
    if parts.scheme not in ("", "http", "https") or not (parts.path or parts.query):
        return None
    path = unquote(parts.path) if "%" in parts.path else parts.path
    match = EXTENSION_RE.search(path)
    extension = match.group(1).lower() if match else None
    if extension in DOCUMENT_EXTENSIONS:
        return urljoin(base_url, href)
    if parts.query:
        query = parse_qs(parts.query) if "=" in parts.query else {}
        if VIEWER_PATH_RE.search(path):
            for key in ("file", "fileurl", "url"):
                for value in query.get(key, []):
                    if attachment_extension(value):
                        return urljoin(urljoin(base_url, href), value)
            return None
        if DOWNLOAD_HANDLER_RE.search(path):
            return urljoin(base_url, href)
        if any(_has_document_extension(value) for key in FILE_PARAMS for value in query.get(key, [])):
            return urljoin(base_url, href)
    if named and extension is None:
        return urljoin(base_url, href)
    return None


def _has_document_extension(name: str) -> bool:
    match = EXTENSION_RE.search(name)
    return match is not None and match.group(1).lower() in DOCUMENT_EXTENSIONS


def _names_document(link: etree._Element) -> bool:
    return link.get("download") is not None or any(
        names_document(value) for value in (link.get("title"), link.text)
    )


def _name(element: etree._Element, href: str) -> str:
    for value in (element.get("download"), element.get("title"), clean_line(text_content(element))):
        if value and value.strip():
            return value.strip()
    return unquote(urlsplit(href).path.rsplit("/", 1)[-1])


def attachment_scope(body: etree._Element | None) -> list[etree._Element]:
    """Where attachment links of an article are: the body's container and the few blocks right after it."""
    if body is None:
        return []
    container = body.getparent() if body.getparent() is not None else body
    scope = [container]
    level: etree._Element | None = container
    for _ in range(FOLLOWING_LEVELS):
        if level is None:
            break
        taken = 0
        for sibling in level.itersiblings():
            if not isinstance(sibling.tag, str):
                continue
            taken += 1
            if _is_attachment_block(sibling):
                scope.append(sibling)
            if taken == FOLLOWING_SIBLINGS:
                break
        level = level.getparent()
    return scope


def _leading_text(element: etree._Element, limit: int) -> str:
    """The first ``limit`` characters of an element's text, whitespace dropped, without reading the rest
    (a sibling after the body may hold the whole rest of the page)."""
    pieces: list[str] = []
    length = 0
    for raw in element.itertext():
        piece = "".join(raw.split())
        pieces.append(piece)
        length += len(piece)
        if length >= limit:
            break
    return "".join(pieces)[:limit]


def _is_attachment_block(element: etree._Element) -> bool:
    marks = f"{element.get('class', '')} {element.get('id', '')}".lower()
    # The label opens the block ("附件：", "相关附件", "附件下载"): a 附件 further in is some other text.
    return ATTACHMENT_BLOCK_RE.search(marks) is not None or "附件" in _leading_text(element, 8)


def find_attachments(body: etree._Element | None, tree: etree._Element, url: str) -> list[dict[str, str]]:
    """``{url, name}`` of document links around ``body`` and in inline scripts, absolute, deduplicated.

    Only ``href`` is read: TRS pages also carry ``oldsrc``, the file's path inside the CMS, which 404s.
    """
    found: dict[str, dict[str, str]] = {}
    for container in attachment_scope(body):
        for link in container.iter("a"):
            href = link.get("href") or ""
            absolute = document_url(href, url)
            if absolute is None and _names_document(link):
                absolute = document_url(href, url, named=True)
            if absolute:
                found.setdefault(absolute, {"url": absolute, "name": _name(link, href)})
    for text_of_script in inline_scripts(tree):
        # The pattern opens with "<a" in either case; without one a case-insensitive scan of the whole
        # script finds nothing, slowly.
        if "<a" not in text_of_script and "<A" not in text_of_script:
            continue
        for href, text in SCRIPT_LINK_RE.findall(text_of_script):
            absolute = document_url(href, url, named=names_document(text))
            if absolute:
                name = clean_line(text) or unquote(urlsplit(absolute).path.rsplit("/", 1)[-1])
                found.setdefault(absolute, {"url": absolute, "name": name})
    return list(found.values())
