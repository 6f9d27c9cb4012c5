"""``ArticlePage``: one article page parsed once, its intermediate results cached, one method a field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from lxml import etree

from portalcrawl.extract import content, families, metaline
from portalcrawl.extract.attachments import find_attachments
from portalcrawl.extract.body import (
    ORIGINAL_TITLE,
    addressee_above,
    body_images,
    clean_body_html,
    find_body,
    lead_paragraphs,
    meta_line_body,
    without_contents,
    without_headline,
    without_leading_captions,
    without_trailing_links,
    without_xxgk_block,
)
from portalcrawl.extract.boilerplate import strip_boilerplate
from portalcrawl.extract.column import find_column
from portalcrawl.extract.dates import DEFAULT_TIMEZONE, ParsedDate
from portalcrawl.extract.documents import EXTENSION_ALTERNATION
from portalcrawl.extract.encoding import decode_html
from portalcrawl.extract.html import page_bytes, parse_tree
from portalcrawl.extract.language import language
from portalcrawl.extract.lines import LineKeys, content_hash, index_of
from portalcrawl.extract.meta import gov_meta, read_meta
from portalcrawl.extract.multipage import continuation_links
from portalcrawl.extract.published import date_of, find_published
from portalcrawl.extract.selectors import select
from portalcrawl.extract.stages import Stage
from portalcrawl.extract.structured import StructuredData, account_name, read_structured
from portalcrawl.extract.title import HEADER_WINDOW, element_text, find_title, title_index
from portalcrawl.items import Article

if TYPE_CHECKING:
    from portalcrawl.profiles import SiteProfile

TRAILER_WINDOW = 12
# The page's last lines, where a footer names the site's owner.
FOOTER_LINES = 12
PROFILE_LABEL = re.compile(r"^(?:来源|信息来源|作者|记者|发布时间|发布日期|日期|时间)\s*[:：]\s*")
ATTACHMENT_LINE = re.compile(
    rf"^\s*(?:相关)?附件\s*\d*\s*[:：]|\.(?:{EXTENSION_ALTERNATION})\s*$",
    re.IGNORECASE,
)
XXGK_SOURCE = ("发布机构", "责任部门", "发文机关")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the body sits among the page's lines, and the lines around it that hold its meta fields."""

    leading_meta: list[str]  # meta rows at the top of the body container, split off the body
    body_lines: list[str]  # the container's lines without the headline and those rows
    header_from: int  # first page line after the headline
    first_body_line: int  # the container's first line among the page's lines (-1: not found)
    body_start: int  # the body's first line among the page's lines
    header: list[str]
    spaced_body: list[str]  # the body's lines with their word gaps kept (bylines need them)
    trailer: list[str]


class ArticlePage:
    """One article page. Pure: the page, its URL, the fetch time and the profile are all it uses."""

    def __init__(
        self,
        html_page: str | bytes,
        url: str,
        *,
        fetched_at: datetime | None = None,
        profile: SiteProfile | None = None,
    ) -> None:
        self.encoding: str | None = None
        if isinstance(html_page, bytes):
            html_page, self.encoding = decode_html(html_page)
        self.url = url
        self.fetched_at = fetched_at
        self.profile = profile
        self.timezone = (profile.timezone if profile else None) or DEFAULT_TIMEZONE
        self.encoded = page_bytes(html_page)
        self.tree = parse_tree(self.encoded)
        # Read before the stages below prune the tree: pagers are often in blocks dropped as noise.
        self.further_pages = continuation_links(self.tree, url)

    # Shared intermediate results, each computed once.

    @cached_property
    def index(self) -> content.PageIndex:
        return content.index_page(self.tree)

    @cached_property
    def meta_tags(self) -> dict[str, str]:
        return read_meta(self.tree)

    @cached_property
    def page_gov_meta(self) -> dict[str, str]:
        """The government ``<meta>`` fields (without the xxgk table's, see ``gov_meta``)."""
        return gov_meta(self.meta_tags)

    @cached_property
    def structured(self) -> StructuredData:
        return read_structured(self.tree, self.meta_tags)

    @cached_property
    def family(self) -> families.Family | None:
        return families.detect_family(self.encoded, self.url, self.profile.cms if self.profile else None)

    @cached_property
    def body_candidates(self) -> dict[etree._Element, list[str]]:
        """Text lines of the body candidates the body search read, reused for the body's text."""
        return {}

    @cached_property
    def body_container(self) -> tuple[etree._Element | None, str]:
        return find_body(self.tree, self.index, self.family, self.profile, self.body_candidates, url=self.url)

    @property
    def body_node(self) -> etree._Element | None:
        return self.body_container[0]

    @cached_property
    def page_lines(self) -> list[str]:
        body_root = self.tree.find("body")
        root = body_root if body_root is not None else self.tree
        return content.text_lines(root, join_cjk=False, index=self.index)

    @cached_property
    def page_keys(self) -> LineKeys:
        return LineKeys(self.page_lines)

    @cached_property
    def container_lines(self) -> list[str]:
        node = self.body_node
        if node is None:
            return []
        return list(
            self.body_candidates.get(node) or content.text_lines(node, drop_noise=True, index=self.index)
        )

    @cached_property
    def first_container_line(self) -> int:
        lines = self.container_lines
        return index_of(self.page_keys, lines[0]) if lines else -1

    @cached_property
    def layout(self) -> Layout:
        page_lines, keys = self.page_lines, self.page_keys
        lines = without_headline(without_xxgk_block(self.container_lines), self.title())
        leading_meta, lines = meta_line_body(lines, self.fetched_at, self.timezone)
        body_start = index_of(keys, lines[0]) if lines else -1
        if body_start < 0:
            body_start = len(page_lines)
        title_at = title_index(keys, self.title(), body_start)
        header_from = title_at + 1 if title_at >= 0 else max(0, body_start - HEADER_WINDOW)
        header = page_lines[header_from:body_start]
        if len(header) > 2 * HEADER_WINDOW:
            header = header[:HEADER_WINDOW] + header[-HEADER_WINDOW:]
        header = header + leading_meta + [line for line in lines[:3] if len(line) <= 60]
        body_end = index_of(keys, lines[-1], body_start) if lines else -1
        trailer_from = body_end + 1 if body_end >= 0 else body_start
        # The page's own lines when the body was found in them, else a second walk.
        if 0 <= body_start <= body_end:
            spaced_body = page_lines[body_start : body_end + 1]
        elif self.body_node is not None:
            spaced_body = content.text_lines(
                self.body_node, drop_noise=True, join_cjk=False, index=self.index
            )
        else:
            spaced_body = []
        return Layout(
            leading_meta=leading_meta,
            body_lines=lines,
            header_from=header_from,
            first_body_line=self.first_container_line,
            body_start=body_start,
            header=header,
            spaced_body=spaced_body,
            trailer=page_lines[trailer_from : trailer_from + TRAILER_WINDOW] + spaced_body[-3:],
        )

    @cached_property
    def header_fields(self) -> metaline.MetaLine:
        return metaline.parse_meta_lines(self.layout.header)

    @cached_property
    def trailer_fields(self) -> metaline.MetaLine:
        return metaline.parse_meta_lines(self.layout.trailer)

    @cached_property
    def xxgk(self) -> dict[str, str]:
        """The 信息公开 table's fields, read from the lines before the body."""
        return metaline.xxgk_fields(self.page_lines[: max(self.layout.body_start, 1) + 5])

    @cached_property
    def gov_meta(self) -> dict[str, str]:
        """Government ``<meta>`` fields and the xxgk table's (``xxgk:<label>``)."""
        return self.page_gov_meta | {f"xxgk:{label}": value for label, value in self.xxgk.items()}

    def selected_text(self, selector: str | None) -> str | None:
        """Text of a profile selector's first match, with a leading ``来源：``-style label removed."""
        selected = select(self.tree, selector)
        if not selected:
            return None
        return PROFILE_LABEL.sub("", element_text(selected[0])) or None

    # One method a field; each ``_stage`` property returns the value and the stage that produced it.

    @cached_property
    def title_stage(self) -> tuple[str | None, str]:
        profile = self.profile
        if profile and (selected := select(self.tree, profile.selectors.title)):
            return element_text(selected[0]), Stage.PROFILE
        government = self.page_gov_meta
        meta_title, meta_stage = (
            (government["articletitle"], Stage.GOV_META)
            if government.get("articletitle")
            else (self.structured.title, Stage.STRUCTURED_DATA)
        )
        first = self.first_container_line
        return find_title(
            self.tree,
            index=self.index,
            meta_title=meta_title,
            meta_stage=meta_stage,
            family=self.family,
            body_node=self.body_node,
            site_name=government.get("sitename"),
            lines_before_body=self.page_lines[: first + 1 if first >= 0 else len(self.page_lines)],
            closing_lines=self.page_lines[-FOOTER_LINES:],
        )

    def title(self) -> str | None:
        return self.title_stage[0]

    @cached_property
    def body_text(self) -> str:
        """The body's lines (with a teaser paragraph above a generically found body, and a notice's
        salutation above any body), without a table of contents, opening captions or a closing list of
        links, boilerplate-clean."""
        layout = self.layout
        lines = [line for line in layout.body_lines if not ORIGINAL_TITLE.match(line)]
        lines = without_leading_captions(without_contents(lines))
        if layout.header_from < layout.first_body_line:
            between = self.page_lines[layout.header_from : layout.first_body_line]
            if self.body_container[1] == Stage.GENERIC:
                lines = lead_paragraphs(between, lines) + lines
            lines = addressee_above(between, lines) + lines
        lines = without_trailing_links(lines, self.body_node, self.url)
        return strip_boilerplate("\n".join(lines))

    def body(self) -> str:
        return self.body_text

    @cached_property
    def published_stage(self) -> tuple[ParsedDate | None, str]:
        profile, now, tz = self.profile, self.fetched_at, self.timezone
        if profile and (selected := date_of(self.selected_text(profile.selectors.published), now, tz)):
            return selected, Stage.PROFILE
        return find_published(
            self.tree,
            index=self.index,
            url=self.url,
            tz=tz,
            now=now,
            xxgk=self.xxgk,
            header=self.layout.header,
            header_fields=self.header_fields,
            trailer_fields=self.trailer_fields,
            government=self.gov_meta,
            structured_published=self.structured.published,
            title=self.title(),
        )

    def published(self) -> ParsedDate | None:
        return self.published_stage[0]

    @cached_property
    def source_stage(self) -> tuple[str | None, str | None]:
        xxgk = self.xxgk
        for value, stage in (
            (self.selected_text(self.profile.selectors.source) if self.profile else None, Stage.PROFILE),
            (self.header_fields.source, Stage.META_LINE),
            (next((xxgk[k] for k in XXGK_SOURCE if xxgk.get(k)), None), Stage.XXGK),
            (self.gov_meta.get("contentsource"), Stage.GOV_META),
            (self.trailer_fields.source, Stage.META_LINE),
            # A republished article names its publication where a person's name would go, beside the
            # host's own name (``新浪网 作者 国际在线``, ``18:57 参考消息`` with meta author 参考消息).
            (metaline.publication(self.header_fields.author), Stage.META_LINE),
            (
                metaline.publication_beside_date(self.structured.author, self.layout.header),
                Stage.STRUCTURED_DATA,
            ),
            (metaline.media_name_near_date(self.layout.header), Stage.META_LINE),
            (self._header_account(), Stage.META_LINE),
        ):
            if value is not None:
                return (value or None), stage
        return None, None

    def _header_account(self) -> str | None:
        """The publishing account the header shows, as the page's scripts name it (WeChat pages: no
        来源, the account under the headline)."""
        name = account_name(self.tree)
        if name is None:
            return None
        shown = (
            metaline.MEDIA_SPLIT.split(metaline.normalise(line))
            for line in self.layout.header
            if len(line) <= 40
        )
        return name if any(metaline.normalise(name) in tokens for tokens in shown) else None

    def source(self) -> str | None:
        return self.source_stage[0]

    def editor(self) -> str | None:
        return self.header_fields.editor or self.trailer_fields.editor

    @cached_property
    def author_stage(self) -> tuple[str | None, str | None]:
        layout, editor = self.layout, self.editor()
        # Attachment links often close the body; the byline is the last line before them.
        closing = [line for line in layout.spaced_body if not ATTACHMENT_LINE.search(line)][-2:]
        byline = metaline.byline_author(
            layout.spaced_body[: len(layout.leading_meta) + 6],
            closing + layout.trailer[:4],
            closing,
            header_lines=layout.header[:HEADER_WINDOW],
        )
        header = self.layout.header
        for value, stage, may_be_editor in (
            (
                self.selected_text(self.profile.selectors.author) if self.profile else None,
                Stage.PROFILE,
                True,
            ),
            (self.header_fields.author, Stage.META_LINE, False),
            (byline, Stage.BYLINE, True),
            (metaline.name_before_date(header, self.trailer_fields.author), Stage.META_LINE, False),
            (self.trailer_fields.author, Stage.META_LINE, False),
            (metaline.clean_person(self.structured.author or ""), Stage.STRUCTURED_DATA, False),
        ):
            # A CMS 作者 field that repeats the editor is the editor; a byline in the text is not.
            if not value or (value == editor and not may_be_editor):
                continue
            # A pen name in Latin letters counts where a 作者 label names it (作者 maomaobear).
            if metaline.looks_like_person(value) or (
                stage == Stage.META_LINE and metaline.is_pen_name(value)
            ):
                return value, stage
        return None, None

    def author(self) -> str | None:
        return self.author_stage[0]

    @cached_property
    def column_stage(self) -> tuple[str | None, str]:
        return find_column(self.page_lines, self.gov_meta, self.title(), self.structured.section)

    def attachments(self) -> list[dict[str, str]]:
        return find_attachments(self.body_node, self.tree, self.url)

    def to_article(self) -> Article:
        """The Article, its fields in the order they depend on each other:

        1. the body container (profile, CMS family, generic selectors, content scoring);
        2. the title, which marks where the body's text starts;
        3. the body's text and the header and trailer lines around it;
        4. the publication date, source, author and editor from those lines and the page's meta;
        5. the column, attachments, body HTML, images and language.
        """
        stages: dict[str, str] = {}
        body_node, stages["body_text"] = self.body_container
        title, stages["title"] = self.title_stage
        body_text = self.body()
        published, published_stage = self.published_stage
        if published is not None:
            stages["published_at"] = stages["date_precision"] = published_stage
        source, source_stage = self.source_stage
        if source_stage is not None:
            stages["source"] = source_stage
        author, author_stage = self.author_stage
        if author_stage is not None:
            stages["author"] = author_stage
        editor = self.editor()
        if editor:
            stages["editor"] = Stage.META_LINE
        column, column_stage = self.column_stage
        if column:
            stages["column"] = column_stage
        attachments = self.attachments()
        if attachments:
            stages["attachments"] = stages["body_text"]
        family = self.family
        if family:
            stages["cms"] = Stage.FINGERPRINT if not (self.profile and self.profile.cms) else Stage.PROFILE
        html_lang = self.tree.get("lang") or self.tree.get("xml:lang")
        return Article(
            url=self.url,
            title=title,
            published_at=published.isoformat() if published else None,
            published_raw=published.raw if published else None,
            date_precision=published.precision if published else None,
            source=source,
            author=author,
            editor=editor,
            body_text=body_text,
            body_html=clean_body_html(body_node, self.url) if body_node is not None else "",
            attachments=attachments,
            images=body_images(body_node, self.url) if body_node is not None else [],
            column=column,
            gov_meta=self.gov_meta,
            language=language(body_text or " ".join(self.page_lines[:50]), html_lang),
            content_hash=content_hash(title, body_text),
            encoding=self.encoding,
            fetched_at=self.fetched_at.isoformat() if self.fetched_at else None,
            field_stages=stages,
            cms=family.name if family else None,
            page_urls=[self.url, *self.further_pages],
        )
