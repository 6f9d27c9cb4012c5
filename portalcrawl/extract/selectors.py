"""Profile selectors (CSS, or XPath after ``xpath:``): compiled once, the same for checking and using."""

from __future__ import annotations

from functools import lru_cache

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

XPATH_PREFIX = "xpath:"
# Evaluating on an empty document finds what compiling alone lets through (an unknown function or
# namespace prefix is only reported when the expression runs).
_EMPTY_DOCUMENT = etree.fromstring("<html><body></body></html>")


class InvalidSelector(ValueError):
    """A profile selector that does not compile (or cannot run); the message says why."""


@lru_cache(maxsize=256)
def compiled_selector(selector: str) -> etree.XPath:
    """The selector as a compiled XPath, cached: translating CSS to XPath costs more than running it."""
    try:
        if selector.startswith(XPATH_PREFIX):
            compiled = etree.XPath(selector[len(XPATH_PREFIX) :].strip())
        else:
            compiled = CSSSelector(selector)
        compiled(_EMPTY_DOCUMENT)
    except (etree.XPathError, SelectorError) as exc:
        kind = "XPath" if selector.startswith(XPATH_PREFIX) else "CSS selector"
        raise InvalidSelector(f"invalid {kind} {selector!r}: {exc}") from None
    return compiled


def select(tree: etree._Element, selector: str | None) -> list[etree._Element]:
    """The elements a selector matches (an XPath that yields strings or numbers matches none)."""
    if not selector:
        return []
    found = compiled_selector(selector)(tree)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def selected_anchors(tree: etree._Element, selector: str) -> list[etree._Element]:
    """The link elements a links selector picks, in document order.

    A matched element with an ``href`` is itself a link; any other matched element stands for the
    links inside it (so ``ul.news`` works as well as ``ul.news a``); an XPath ending in ``/@href``
    gives the elements holding those attributes.
    """
    found = compiled_selector(selector)(tree)
    anchors: list[etree._Element] = []
    for match in found if isinstance(found, list) else []:
        if isinstance(match, str):
            holder = getattr(match, "getparent", lambda: None)()
            if isinstance(holder, etree._Element):
                anchors.append(holder)
        elif isinstance(match, etree._Element):
            if match.get("href") is not None:
                anchors.append(match)
            else:
                anchors.extend(a for a in match.iter("a") if a.get("href") is not None)
    return list(dict.fromkeys(anchors))
