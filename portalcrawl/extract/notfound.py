"""Soft 404s: pages served with 200 OK whose only text says that the page does not exist."""

from __future__ import annotations

import re

from portalcrawl.extract import content
from portalcrawl.extract.html import parse_tree

# What a portal's error page says in place of an article ("对不起，您访问的页面不存在", "404 Not Found").
NOT_FOUND_TEXT = re.compile(
    r"页面不存在|页面未找到|网页不存在|"
    r"找不到(?:该|此|您要访问的|您所访问的|您访问的|你访问的)?(?:页面|网页)|"
    r"(?:页面|网页|信息|文章|内容|稿件)已(?:被)?(?:删除|失效|过期|撤销|撤稿|下线)|"
    r"(?:信息|文章|内容|稿件)不存在|"
    r"not found|page not found|404\s*(?:错误|页面|error|-|–|—)|(?:error|错误)\s*404|^\s*404\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# An article says more than an error page: a page with this much body text is never a soft 404.
MAX_NOT_FOUND_CHARS = 200


def not_found_message(page: str, title: str | None, body_text: str) -> str | None:
    """The words by which a page says it does not exist (its title or any visible line), when its
    body is no longer than an error page's: a real article that mentions a missing page is kept.

    ``title`` and ``body_text`` are the page's extracted ones; the page is read again only when its
    body is that short, which an article rarely is.
    """
    if len(body_text) > MAX_NOT_FOUND_CHARS:
        return None
    if title and (match := NOT_FOUND_TEXT.search(title)):
        return match.group().strip()
    tree = parse_tree(page)
    body = tree.find("body")
    for line in content.text_lines(body if body is not None else tree):
        if match := NOT_FOUND_TEXT.search(line):
            return match.group().strip()
    return None
