"""Decode portal HTML bytes, trusting whichever declared charset actually fits the bytes."""

from __future__ import annotations

import codecs
import re

import webencodings
from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

# Declarations are read from the head only, as browsers do (the HTML spec prescans 1024 bytes; gov
# pages often put kilobytes of script before their <meta>, so look further).
_PRESCAN_BYTES = 8192
_META_CHARSET = re.compile(
    rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*(?P<charset>[a-zA-Z0-9_.:-]+)", re.IGNORECASE | re.DOTALL
)
# w3lib leaves these WHATWG labels of GBK unresolved; GB18030 is their superset.
_GBK_ALIASES = {"x-gbk", "gbk", "gb2312", "gb_2312-80", "gb_2312", "csgb2312", "x-gb2312", "chinese", "cp936"}
# WHATWG encodings that decode no text: "replacement" (ISO-2022-KR, HZ…) yields one U+FFFD, and
# x-user-defined maps bytes to private-use characters.
_UNREADABLE_ENCODINGS = {"replacement", "x-user-defined"}
# HTML spec: a <meta> cannot truthfully declare UTF-16/32 (it could not have been read); it means utf-8.
_META_IMPOSSIBLE = {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}


def normalize_encoding(name: str | None) -> str | None:
    """The Python codec name for a charset label (gb2312/gbk → gb18030), or None when the label is not
    one of the WHATWG Encoding Standard's.

    Python knows codecs no page is written in: ``base64``, ``hex``, ``zlib`` and ``rot13`` are no text
    encodings, ``undefined`` refuses everything and ``unicode_escape`` turns backslashes into
    characters. A page declaring one is decoded as if it declared nothing, as a browser does.
    """
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    if label in _GBK_ALIASES:
        return "gb18030"
    whatwg = webencodings.lookup(label)
    if whatwg is None or whatwg.name in _UNREADABLE_ENCODINGS:
        return None
    resolved = resolve_encoding(label) or whatwg.codec_info.name
    return "gb18030" if resolved in {"gbk", "gb2312"} else codecs.lookup(resolved).name


def _declared_in_body(body: bytes) -> list[str]:
    """Every charset the page's <meta> tags declare, in document order, first w3lib's pick."""
    head = body[:_PRESCAN_BYTES]
    labels: list[str | None] = [html_body_declared_encoding(head)]
    labels.extend(m.group("charset").decode("ascii", "replace") for m in _META_CHARSET.finditer(head))
    found: list[str] = []
    for label in labels:
        encoding = normalize_encoding(label)
        if encoding in _META_IMPOSSIBLE:
            encoding = "utf-8"
        if encoding is not None and encoding not in found:
            found.append(encoding)
    return found


def _decodes_strictly(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def decode_html(body: bytes, header_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML page; returns the text and the codec name used (``utf-8``, ``gb18030``, …).

    Order: a BOM wins. Then, since UTF-8 is self-validating (GBK text is practically never valid
    UTF-8), a non-ASCII body that decodes strictly as UTF-8 is UTF-8 whatever is declared — this fixes
    pages whose ``<meta>`` still says gb2312 after a move to UTF-8, and UTF-8 served as GBK. Otherwise
    the first declaration (HTTP header, then each ``<meta>``) that decodes strictly; then GB18030, the
    usual undeclared legacy encoding of these portals; failing all, the candidate with fewest U+FFFD.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        bom_codec = codecs.lookup(bom_encoding).name
        return body[len(bom) :].decode(bom_codec, "replace"), bom_codec
    if not body.isascii() and _decodes_strictly(body, "utf-8"):
        return body.decode("utf-8"), "utf-8"
    candidates: list[str] = []
    for encoding in (normalize_encoding(header_charset), *_declared_in_body(body), "utf-8", "gb18030"):
        if encoding is not None and encoding not in candidates:
            candidates.append(encoding)
    for encoding in candidates:
        if _decodes_strictly(body, encoding):
            return body.decode(encoding), encoding
    decoded = [(body.decode(encoding, "replace"), encoding) for encoding in candidates]
    # min() keeps the first of equals, so declarations still win ties.
    return min(decoded, key=lambda pair: pair[0].count("\ufffd"))
