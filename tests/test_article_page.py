"""The page object behind extract_article: one parse and walk per page, one method a field, named stages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from portalcrawl.extract import content, page
from portalcrawl.extract.article import extract_article
from portalcrawl.extract.page import ArticlePage
from portalcrawl.extract.stages import Stage, cms_stage

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
CASES = sorted(FIXTURES.glob("*/*.html"))
FETCHED_AT = datetime(2026, 1, 20, tzinfo=UTC)
STAGE_NAMES = {str(stage) for stage in Stage}

ARTICLE = """<html><head><title>县政府召开常务会议_示例县人民政府</title>
<meta name="ArticleTitle" content="县政府召开常务会议"></head>
<body><div class="nav">首页 &gt; 政务动态</div>
<h1>县政府召开常务会议</h1>
<div class="info">发布时间：2026-01-16 10:20 来源：县政府办公室</div>
<div class="article-content">
<p>1月16日，县长主持召开县政府常务会议，研究部署近期重点工作。会议听取了各部门的工作汇报。</p>
<p>会议强调，要抓好安全生产，确保群众平安过节。（记者 王小明）</p></div></body></html>"""


def url_of(case: Path) -> str:
    url: str = json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))["url"]
    return url


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_every_field_stage_is_a_stage_name(case: Path) -> None:
    article = extract_article(case.read_bytes(), url_of(case), fetched_at=FETCHED_AT)
    for field, stage in article.field_stages.items():
        assert stage in STAGE_NAMES or (article.cms and stage == cms_stage(article.cms)), (field, stage)


def test_the_field_methods_give_the_article_fields() -> None:
    article_page = ArticlePage(ARTICLE, "http://www.example.gov.cn/a/1.html", fetched_at=FETCHED_AT)
    article = article_page.to_article()
    assert article_page.title() == article.title == "县政府召开常务会议"
    assert article_page.source() == article.source == "县政府办公室"
    published = article_page.published()
    assert published is not None and published.isoformat() == article.published_at == "2026-01-16T10:20+08:00"
    assert article_page.author() == article.author
    assert article_page.editor() == article.editor
    assert article_page.body() == article.body_text
    assert article_page.attachments() == article.attachments
    assert article.field_stages["title"] == Stage.GOV_META
    assert article.field_stages["published_at"] == "meta_line"


def test_the_page_is_parsed_and_indexed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"parse": 0, "index": 0}
    real_parse, real_index = page.parse_tree, content.index_page

    def counting_parse(text: str | bytes) -> etree._Element:
        calls["parse"] += 1
        return real_parse(text)

    def counting_index(tree: etree._Element) -> content.PageIndex:
        calls["index"] += 1
        return real_index(tree)

    monkeypatch.setattr(page, "parse_tree", counting_parse)
    monkeypatch.setattr(content, "index_page", counting_index)
    article_page = ArticlePage(ARTICLE, "http://www.example.gov.cn/a/1.html", fetched_at=FETCHED_AT)
    article_page.to_article()
    # Asking for fields again reads the cached work.
    article_page.title(), article_page.published(), article_page.author(), article_page.source()
    assert calls == {"parse": 1, "index": 1}
