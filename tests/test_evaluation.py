"""Scoring rules of ``portalcrawl eval`` and the command itself on a small labelled set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from portalcrawl.cli import main
from portalcrawl.evaluation import (
    Extracted,
    Extractor,
    evaluate_folds,
    format_folds,
    load_article_labels,
    score_page,
)

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
LABEL = {
    "file": "a.html",
    "title": "标题 一",
    "published": "2020-10-04T20:30",
    "source": "长江网",
    "author": None,
    "body_first": "第一段开头",
    "body_last": "最后一句。",
    "must_not_contain": ["版权所有"],
    "attachments": ["./P0201.pdf", "/files/b.doc"],
}


def scores(got: Extracted) -> dict[str, tuple[int, int]]:
    return score_page(LABEL, got, "http://x.gov.cn/col/202010/t20201004_1.html")


def good() -> Extracted:
    return Extracted(
        title="标题一",
        published="2020-10-04T20:30:00+08:00",
        source="长江网",
        author="",
        body_text="第一段开头，正文。\n" + "中间的正文。" * 100 + "\n最后一句。",
        attachments=["http://x.gov.cn/col/202010/P0201.pdf", "http://x.gov.cn/files/b.doc"],
    )


def test_a_correct_extraction_scores_everything() -> None:
    assert scores(good()) == {
        "title": (1, 1),
        "published": (1, 1),
        "source": (1, 1),
        "author": (1, 1),
        "body_first": (1, 1),
        "body_last": (1, 1),
        "no_boilerplate": (1, 1),
        "attachments": (2, 2),
    }


def test_dates_compare_at_the_labels_precision() -> None:
    got = good()
    got.published = "2020-10-04"
    assert scores(got)["published"] == (0, 1)
    got.published = "2020-10-04 20:30:59"
    assert scores(got)["published"] == (1, 1)
    got.published = "2020-10-04T20:31+08:00"
    assert scores(got)["published"] == (0, 1)


def test_null_labels_need_empty_values_and_body_positions_matter() -> None:
    got = good()
    got.author = "姚昊"
    got.body_text = "导航 " * 400 + got.body_text + " 相关新闻" * 400
    got.attachments = got.attachments[:1]
    result = scores(got)
    assert result["author"] == (0, 1)
    assert result["body_first"] == (0, 1)
    assert result["body_last"] == (0, 1)
    assert result["attachments"] == (1, 2)
    got.body_text += "版权所有"
    assert scores(got)["no_boilerplate"] == (0, 1)


def test_listing_labels_are_not_article_labels(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        json.dumps(LABEL, ensure_ascii=False)
        + "\n"
        + json.dumps({"file": "l.html", "article_links": []})
        + "\n",
        encoding="utf-8",
    )
    assert [label["file"] for label in load_article_labels(labels)] == ["a.html"]


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(FIXTURES / "hanweb" / "zoom-org-credit.html", pages / "hanweb.html")
    label = {
        "file": "hanweb.html",
        "title": "1-10月德清县固定资产投资结构趋稳趋优",
        "published": "2016-11-22",
        "source": "省发改委",
        "author": None,
        "body_first": "1-10月，全县固定资产投资完成246.79亿元",
        "body_last": "总体全县投资结构趋稳趋优。（德清县发改局）",
        "must_not_contain": ["浙ICP备05018911号"],
        "attachments": ["/module/download/downfile.jsp?classid=0&filename=1611221000123.pdf"],
    }
    (tmp_path / "labels.jsonl").write_text(json.dumps(label, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest = {
        "file": "hanweb.html",
        "url": "http://fgw.zj.gov.cn/art/2016/11/22/art_1_2.html",
        "site": "fgw.zj.gov.cn",
    }
    (tmp_path / "manifest.jsonl").write_text(json.dumps(manifest) + "\n", encoding="utf-8")
    return tmp_path


def test_eval_command_prints_a_table(small_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["eval", "--pages", str(small_corpus / "pages"), "--labels", str(small_corpus / "labels.jsonl")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 labelled articles" in out
    assert "title" in out and "1/1 100.0%" in out


def test_eval_command_json(small_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "eval",
        "--pages",
        str(small_corpus / "pages"),
        "--labels",
        str(small_corpus / "labels.jsonl"),
        "--json",
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)["portalcrawl"]
    assert all(score["rate"] == 1.0 for score in report["fields"].values())
    assert report["failures"] == {}


def test_eval_command_rejects_unknown_extractors(
    small_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["eval", "--pages", str(small_corpus / "pages"), "--labels", str(small_corpus / "labels.jsonl")]
    assert main([*args, "--compare", "readability"]) == 2
    assert "unknown extractor" in capsys.readouterr().err
    assert main(["eval", "--pages", str(small_corpus / "nope"), "--labels", "x.jsonl"]) == 2


def test_listing_labels_score_link_precision_recall_and_page_2(
    small_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listings = Path(__file__).parent / "fixtures" / "listings" / "trs"
    shutil.copy(listings / "column_0based.html", small_corpus / "pages" / "column.html")
    url = "http://www.example.gov.cn/xwzx/jrjj/"
    label = {
        "file": "column.html",
        "url": url,
        # Two of the three links as written on the page (relative), and one the page does not list.
        "article_links": ["./202601/t20260116_5661665.html", "202601/t20260115_5661601.html", "./t1.html"],
        "next_page": "index_1.html",
    }
    with (small_corpus / "labels.jsonl").open("a", encoding="utf-8") as labels:
        labels.write(json.dumps(label) + "\n")
    args = ["eval", "--pages", str(small_corpus / "pages"), "--labels", str(small_corpus / "labels.jsonl")]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["listings"]
    assert report["article_links"] == {
        "precision": 0.6667,
        "recall": 0.6667,
        "found": 2,
        "extracted": 3,
        "labelled": 3,
    }
    assert report["next_page"] == {"found": 1, "determined": 1, "rate": 1.0}
    assert main(args) == 0
    assert "page 2 found    1/1 100.0%" in capsys.readouterr().out


def test_folds_score_each_site_with_an_extractor_built_without_it(small_corpus: Path) -> None:
    pages = small_corpus / "pages"
    shutil.copy(pages / "hanweb.html", pages / "other.html")
    [label] = load_article_labels(small_corpus / "labels.jsonl")
    labels = [label, {**label, "file": "other.html"}]
    sites = {"hanweb.html": "a.gov.cn", "other.html": "b.gov.cn"}

    def memorising(training: list[dict[str, Any]]) -> Extractor:
        """An extractor that knows the titles of the pages it was built from, and nothing else."""
        titles = {t["file"]: t["title"] for t in training}

        def run(page: bytes, url: str) -> Extracted:
            return Extracted(title=titles.get(url))

        return run

    # Each page's "URL" is its file name, so the extractor can tell the pages apart.
    urls = {name: name for name in sites}
    report = evaluate_folds(pages, labels, urls, sites, memorising)
    assert report.folds == 2
    assert (report.in_sample["title"].correct, report.in_sample["title"].total) == (2, 2)
    assert (report.left_out["title"].correct, report.left_out["title"].total) == (0, 2)
    assert report.failed_sites["title"] == ["a.gov.cn", "b.gov.cn"]
    assert "title" in format_folds(report) and "-100.0" in format_folds(report)


def test_eval_command_folds(small_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["eval", "--pages", str(small_corpus / "pages"), "--labels", str(small_corpus / "labels.jsonl")]
    assert main([*args, "--folds", "--json"]) == 0
    folds = json.loads(capsys.readouterr().out)["folds"]
    assert folds["folds"] == 1
    assert folds["left_out"]["title"] == {"correct": 1, "total": 1, "rate": 1.0}
