"""strip_boilerplate on portal text, extracted text clean on every path, and StripBoilerplatePipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy import Spider
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from portalcrawl.extract.article import content_hash, extract_article
from portalcrawl.extract.boilerplate import strip_boilerplate
from portalcrawl.extract.multipage import joined_body
from portalcrawl.items import Article
from portalcrawl.pipelines.boilerplate import LINES_REMOVED, StripBoilerplatePipeline
from tests.shared import SEED as SHARED_SEED
from tests.shared import SHARED_MISSING

SEED = SHARED_SEED / "destoon-portal-article.txt"
ARTICLE_PAGES = sorted((Path(__file__).parent / "fixtures" / "articles").glob("*/*.html"))


def test_destoon_page_keeps_only_headline_meta_line_and_paragraphs() -> None:
    if not SEED.is_file():
        pytest.skip(SHARED_MISSING)
    lines = SEED.read_text(encoding="utf-8").splitlines()
    cleaned = strip_boilerplate("\n".join(lines)).split("\n")
    assert cleaned[0] == "优环境、强服务!平顶山高新区以项目建设夯实高质量发展硬支撑"
    assert cleaned[1].startswith("日期:2026-01-16 19:01:55") and "来源:河南日报" in cleaned[1]
    assert cleaned[2].startswith("塔吊林立、机器轰鸣、车辆穿梭")
    assert cleaned[-1].endswith("奋力谱写充满活力的崭新篇章。(蔡长伟 高健)")
    paragraphs = [
        line.strip() for line in lines if len(line.strip()) > 15 and "。" in line and "内容由网友" not in line
    ]
    assert [line for line in cleaned if len(line) > 15 and "。" in line] == paragraphs
    for furniture in (
        "热搜",
        "内容由网友发布",
        "打赏",
        "相关评论",
        "推荐图文",
        "点击排行",
        "网站首页",
        "Powered By",
    ):
        assert furniture not in "\n".join(cleaned)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("当前位置：首页 > 新闻中心 > 正文\n正文第一段。", "正文第一段。"),
        ("发布时间：2024-01-02 【字体：大 中 小】 打印本页 关闭窗口", "发布时间：2024-01-02"),
        ("正文。\n分享到：\n扫一扫在手机打开当前页\n责任编辑：张三", "正文。"),
        ("正文结束。（责任编辑：李四）", "正文结束。"),
        (
            "第一段很长很长的正文内容。\n第二段正文。\n相关阅读\n另一篇文章标题\n再一篇",
            "第一段很长很长的正文内容。\n第二段正文。",
        ),
        ("正文。\n版权所有 某某市人民政府 网站标识码：1234000001 京ICP备05070218号", "正文。"),
        ("正文。\n上一页 1 2 3 下一页", "正文。"),
        ("Some article text.\nHome | News | Services | Contact", "Some article text."),
    ],
)
def test_furniture_is_removed(text: str, expected: str) -> None:
    assert strip_boilerplate(text) == expected


LONG_PARAGRAPH = "全市各级各部门认真落实会议部署，扎实推进各项重点工作，取得了阶段性成效。" * 3


@pytest.mark.parametrize(
    ("closing", "widgets"),
    [
        ("责任编辑：王晓", ["图片故事", "茶乡秋收采茶忙", "古厝焕新颜"]),
        ("我要反馈", ["东南网公众号", "海上风电场迎来首台机组"]),
        ("特别声明：以上内容仅代表作者本人观点，不代表本网立场。", ["图片新闻", "蕉城区举办农民丰收节"]),
        ("推荐阅读：全县秋冬季农田水利建设现场会召开", ["平和蜜柚喜获丰收 果农笑开颜"]),
        ("违法和不良信息举报电话：0591-87095403", ["行业专区"]),
        ("- END -", ["往期推荐", "这个秋天，来平和看红叶"]),
        ("编辑|吴小燕", ["回复【村BA】查看赛程"]),
        ("飞杨看市今天 12:05:07", ["网友提问：老师，上实发展能持有吗"]),
    ],
)
def test_a_closing_line_ends_the_text_even_before_more_widgets_than_text(
    closing: str, widgets: list[str]
) -> None:
    text = "\n".join([LONG_PARAGRAPH, LONG_PARAGRAPH, closing, *widgets * 12])
    assert strip_boilerplate(text) == "\n".join([LONG_PARAGRAPH, LONG_PARAGRAPH])


def test_an_editor_row_above_the_text_does_not_end_it() -> None:
    text = "\n".join(["编辑：林小雨", "审核：张建国", "第一段正文。", LONG_PARAGRAPH])
    assert strip_boilerplate(text) == "\n".join(["第一段正文。", LONG_PARAGRAPH])


def test_ordinary_punctuation_and_prose_are_kept() -> None:
    text = "他说：“我们要继续努力。”\n会议指出，要抓好落实；各单位要按时上报。\n（完）"
    assert strip_boilerplate(text) == text


@given(
    st.lists(
        st.sampled_from(["正文第一段。", "相关阅读", "分享到：", "打印本页", "A | B | C", "第二段。", ""]),
        max_size=12,
    )
)
def test_idempotent(lines: list[str]) -> None:
    once = strip_boilerplate("\n".join(lines))
    assert strip_boilerplate(once) == once


@given(st.text(max_size=300))
def test_idempotent_on_any_text(text: str) -> None:
    once = strip_boilerplate(text)
    assert strip_boilerplate(once) == once


def make_pipeline() -> tuple[StripBoilerplatePipeline, MemoryStatsCollector]:
    crawler = get_crawler(Spider)
    stats = MemoryStatsCollector(crawler)
    crawler.stats = stats
    return StripBoilerplatePipeline.from_crawler(crawler), stats


def test_pipeline_strips_counts_and_rehashes_an_item_of_another_spider() -> None:
    pipeline, stats = make_pipeline()
    item = {"url": "http://x.gov.cn/a.html", "title": "标题", "body_text": "正文。\n分享到：\n打印本页"}
    result = pipeline.process_item(item)
    assert result is item
    assert item["body_text"] == "正文。"
    assert item["content_hash"] == content_hash("标题", "正文。")
    assert stats.get_value(LINES_REMOVED) == 2


def test_pipeline_leaves_clean_text_alone() -> None:
    pipeline, stats = make_pipeline()
    item = {"url": "http://x.gov.cn/a.html", "title": "标题", "body_text": "正文。", "content_hash": "kept"}
    pipeline.process_item(item)
    assert item["content_hash"] == "kept"
    assert stats.get_value(LINES_REMOVED) is None


def test_pipeline_passes_an_article_as_extraction_made_it() -> None:
    # Extraction owns an Article's cleaning, one page or several: the pipeline does not judge it again.
    pipeline, stats = make_pipeline()
    article = Article(
        url="http://x.gov.cn/a.html",
        title="标题",
        body_text="第一页正文。\n分享到：",
        content_hash="kept",
        page_urls=["http://x.gov.cn/a.html", "http://x.gov.cn/a_1.html"],
    )
    assert pipeline.process_item(article) is article
    assert (article.body_text, article.content_hash) == ("第一页正文。\n分享到：", "kept")
    assert stats.get_value(LINES_REMOVED) is None


@pytest.mark.parametrize("page", ARTICLE_PAGES, ids=lambda page: f"{page.parent.name}/{page.stem}")
def test_extracted_text_is_boilerplate_clean(page: Path) -> None:
    article = extract_article(page.read_bytes(), f"http://www.example.gov.cn/{page.name}")
    assert article.field_stages.get("body_text")
    assert strip_boilerplate(article.body_text) == article.body_text


PAGE_LINES = st.sampled_from(
    [
        "正文第一段。",
        "相关阅读",
        "推荐",
        "分享到：",
        "打印本页",
        "A | B | C",
        "第二段。",
        "【打印】结尾。",
        "",
    ]
)


@given(st.lists(st.lists(PAGE_LINES, max_size=8), min_size=2, max_size=4))
def test_the_join_of_a_multi_page_article_is_clean(pages: list[list[str]]) -> None:
    # The join merge_pages makes of clean page texts needs no stripping after extraction.
    texts = [strip_boilerplate("\n".join(lines)) for lines in pages]
    body_text, body_hash = joined_body("标题", texts)
    assert strip_boilerplate(body_text) == body_text
    assert body_hash == content_hash("标题", body_text)
