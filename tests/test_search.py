"""Searching Chinese and ASCII text: trigram for 3+ characters, bigrams for 2, user input never FTS syntax."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portalcrawl.database import bigram_tokens, open_database, upsert_articles
from portalcrawl.items import Article
from portalcrawl.search import fts_phrase, search

ARTICLES = [
    Article(
        url="https://kjj.example.gov.cn/art/2026/1/16/art_1_1.html",
        site="kjj",
        title="关于开展2026年度科技创新项目申报工作的通知",
        published_at="2026-01-16T19:01:55+08:00",
        body_text="各有关单位：为推进 Smart City 建设，现将项目申报有关事项通知如下。联系电话：0791-8888。",
    ),
    Article(
        url="https://www.example.gov.cn/art/2026/2/3/art_2_2.html",
        site="gov",
        title="市政府召开常务会议",
        published_at="2026-02-03T10:00:00+08:00",
        body_text='会议研究部署智慧城市建设工作。会议指出，要用好"一网通办"平台 (NEAR(x) a*b OR c -d)。',
    ),
    Article(
        url="https://news.example.com/a/3.html",
        site="news",
        title="记者手记：走进科技园",
        published_at="2025-12-01",
        body_text="园区里，科技企业正在开展研发。",
    ),
    Article(
        url="https://news.example.com/a/4.html", site="news", title="无日期的稿件", body_text="召开座谈会。"
    ),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory):
    db = open_database(Path(tmp_path_factory.mktemp("search")) / "search.db")
    upsert_articles(db, ARTICLES, None)
    yield db
    db.close()


def urls(matches) -> list[str]:
    return [match.url for match in matches]


def test_two_character_chinese_uses_bigrams(db) -> None:
    # SQLite 3.40's trigram LIKE '%会议%' finds nothing; the bigram index must.
    assert urls(search(db, "会议")) == [ARTICLES[1].url]
    assert urls(search(db, "开展")) == [ARTICLES[0].url, ARTICLES[2].url]
    assert urls(search(db, "召开")) == [ARTICLES[1].url, ARTICLES[3].url]  # undated last


def test_three_and_six_character_chinese_use_trigram(db) -> None:
    assert urls(search(db, "科技园")) == [ARTICLES[2].url]
    assert urls(search(db, "科技创新项目")) == [ARTICLES[0].url]
    assert urls(search(db, "智慧城市建设")) == [ARTICLES[1].url]
    assert search(db, "城市建设项目") == []


def test_single_character_scans(db) -> None:
    assert urls(search(db, "园")) == [ARTICLES[2].url]


def test_results_are_newest_first_and_filtered(db) -> None:
    assert urls(search(db, "科技")) == [ARTICLES[0].url, ARTICLES[2].url]
    assert urls(search(db, "科技", site="news")) == [ARTICLES[2].url]
    assert urls(search(db, "科技", since="2026-01-01")) == [ARTICLES[0].url]
    assert urls(search(db, "科技", limit=1)) == [ARTICLES[0].url]


def test_ascii_is_case_insensitive(db) -> None:
    assert urls(search(db, "smart city")) == [ARTICLES[0].url]
    assert urls(search(db, "CITY")) == [ARTICLES[0].url]
    assert urls(search(db, "0791")) == [ARTICLES[0].url]


def test_all_terms_must_match(db) -> None:
    assert urls(search(db, "会议 智慧城市")) == [ARTICLES[1].url]
    assert search(db, "会议 科技园") == []


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ('"一网通办"', True),
        ('"', True),
        ("*", True),
        ("a*b", True),
        ("NEAR(x)", True),
        ("NEAR(", True),
        ("OR c", True),
        ("-d", True),
        ("AND", False),
        ("NOT 会议", False),
        ("title:会议", False),
        ("^会议", False),
        ("{title}", False),
    ],
)
def test_fts_syntax_in_queries_is_searched_literally(db, query: str, found: bool) -> None:
    matches = search(db, query)
    assert urls(matches) == ([ARTICLES[1].url] if found else [])


def test_snippets_highlight_hits(db) -> None:
    [trigram] = search(db, "智慧城市")
    assert "[智慧城市]" in trigram.snippet
    [bigram] = search(db, "会议", marks=("<b>", "</b>"))
    assert "<b>会议</b>" in bigram.snippet
    assert bigram.title == "市政府召开常务会议"
    assert bigram.published_at == "2026-02-03T10:00:00+08:00"
    assert bigram.site == "gov"


def test_empty_query_finds_nothing(db) -> None:
    assert search(db, "   ") == []


def test_bigram_tokens() -> None:
    assert bigram_tokens("召开会议") == {"召开", "开会", "会议"}
    assert bigram_tokens("Smart City 科技, 园") == {"smart", "city", "科技", "园"}
    assert bigram_tokens("2026年度") == {"2026", "年度"}


CJK_ALPHABET = "会议召开科技园"
CJK_PAIRS = [a + b for a in CJK_ALPHABET for b in CJK_ALPHABET]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet=CJK_ALPHABET + "ab 2,", min_size=1, max_size=12), min_size=1, max_size=4))
def test_the_one_tokenizer_indexes_what_search_asks_for(bodies: list[str]) -> None:
    """Storage and search share bigram_tokens: a two-character query finds exactly the articles
    whose text holds it, as a scan of the text would."""
    with tempfile.TemporaryDirectory() as directory:
        db = open_database(Path(directory) / "archive.db")
        articles = [
            Article(url=f"https://x.gov.cn/{n}.html", site="x", title="", body_text=body)
            for n, body in enumerate(bodies)
        ]
        upsert_articles(db, articles, None)
        for pair in CJK_PAIRS:
            found = {match.url for match in search(db, pair, limit=100)}
            assert found == {a.url for a in articles if pair in a.body_text}, pair
        db.close()


def test_fts_phrase_doubles_quotes() -> None:
    assert fts_phrase('a"b') == '"a""b"'


@pytest.fixture(scope="module")
def filtered_db(tmp_path_factory: pytest.TempPathFactory):
    """Articles of two columns and sources, one published just after midnight Beijing time."""
    db = open_database(Path(tmp_path_factory.mktemp("filters")) / "filters.db")
    base = "https://www.example.gov.cn/xwzx/"
    upsert_articles(
        db,
        [
            Article(
                url=base + "1.html",
                site="gov",
                title="防汛工作会议召开",
                published_at="2026-03-01T00:30:00+08:00",
                source="市应急局",
                column="部门动态",
                body_text="会议要求做好防汛准备。\n\n防汛物资要到位，防汛值班要落实。",
            ),
            Article(
                url=base + "2.html",
                site="gov",
                title="春季植树活动",
                published_at="2026-03-05T09:00:00+08:00",
                source="市林业局",
                column="今日聚焦",
                body_text="植树活动中提到防汛一次。",
            ),
            Article(
                url=base + "3.html",
                site="gov",
                title="全市防汛防旱工作部署",
                published_at="2026-02-28T23:00:00+08:00",
                source="市应急局",
                column="部门动态",
                body_text="部署防汛。",
            ),
        ],
        None,
    )
    yield db
    db.close()


@pytest.mark.parametrize("query", ["防汛", "防汛工作"])
def test_until_source_and_column_filter_by_local_date_and_page_fields(filtered_db, query: str) -> None:
    every = {"1.html", "2.html", "3.html"} if query == "防汛" else {"1.html"}

    def found(**filters: str) -> set[str]:
        return {m.url.rsplit("/", 1)[-1] for m in search(filtered_db, query, **filters)} & every

    # The 00:30 article is on March 1st, Beijing time, although UTC still has February 28th.
    assert found(until="2026-02-28") == every & {"3.html"}
    assert found(since="2026-03-01", until="2026-03-01") == every & {"1.html"}
    assert found(until="2026-02") == every & {"3.html"}
    assert found(source="市应急局") == every & {"1.html", "3.html"}
    assert found(column="今日聚焦") == every & {"2.html"}
    assert found(column="部门动态", since="2026-03") == every & {"1.html"}


@pytest.mark.parametrize("query", ["防汛", "防汛工作", "防汛 准备"])
def test_relevance_puts_title_hits_and_many_hits_first(filtered_db, query: str) -> None:
    newest = search(filtered_db, query)
    best = search(filtered_db, query, order="relevance")
    assert sorted(m.url for m in best) == sorted(m.url for m in newest)
    assert best[0].url.endswith("/1.html")
    if query == "防汛":
        assert [m.url.rsplit("/", 1)[-1] for m in newest] == ["2.html", "1.html", "3.html"]
        assert best[-1].url.endswith("/2.html")


@pytest.mark.parametrize("query", ["防汛", "防汛物资"])
def test_snippets_are_one_line_and_keep_their_marks(filtered_db, query: str) -> None:
    marks = ("\x1b[1;31m", "\x1b[0m")
    [match] = search(filtered_db, query, source="市应急局", since="2026-03", marks=marks)
    assert "\n" not in match.snippet
    assert f"{marks[0]}{query[:2]}" in match.snippet or f"{marks[0]}{query}" in match.snippet
    assert match.source == "市应急局"
    assert match.column == "部门动态"


def test_unknown_order_is_refused(filtered_db) -> None:
    with pytest.raises(ValueError, match="unknown order"):
        search(filtered_db, "防汛", order="oldest")
