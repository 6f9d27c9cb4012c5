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
    load_labels,
    score_page,
)
from tests.conftest import run_cli
from tests.shared import CORPUS, corpus_manifest, needs_corpus

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


# -- several label files ----------------------------------------------------------------------------


def _write_labels(path: Path, *labels: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(json.dumps(label, ensure_ascii=False) + "\n" for label in labels), encoding="utf-8"
    )
    return path


@pytest.fixture
def second_split(small_corpus: Path) -> Path:
    """A second labels file in another directory (no manifest beside it) labelling another page."""
    shutil.copy(small_corpus / "pages" / "hanweb.html", small_corpus / "pages" / "copy.html")
    [label] = load_article_labels(small_corpus / "labels.jsonl")
    return _write_labels(small_corpus / "extra" / "more.jsonl", {**label, "file": "copy.html"})


def eval_args(corpus: Path, *labels: Path) -> list[str]:
    return [
        "eval",
        "--pages",
        str(corpus / "pages"),
        *(a for path in labels for a in ("--labels", str(path))),
    ]


def test_labels_given_twice_are_scored_as_their_union(
    small_corpus: Path, second_split: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*eval_args(small_corpus, small_corpus / "labels.jsonl", second_split), "--json"]) == 0
    fields = json.loads(capsys.readouterr().out)["portalcrawl"]["fields"]
    assert fields["title"] == {"correct": 2, "total": 2, "rate": 1.0}
    assert main(eval_args(small_corpus, small_corpus / "labels.jsonl", second_split)) == 0
    out = capsys.readouterr().out
    assert f"2 labelled articles in {small_corpus / 'labels.jsonl'}, {second_split}" in out


def test_the_manifest_is_the_one_beside_the_first_labels_file(
    small_corpus: Path, second_split: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The manifest puts both pages on one site: one fold. Without it each page is its own site.
    (small_corpus / "manifest.jsonl").write_text(
        "".join(
            json.dumps({"file": name, "site": "fgw.zj.gov.cn"}) + "\n"
            for name in ("hanweb.html", "copy.html")
        ),
        encoding="utf-8",
    )
    first, second = small_corpus / "labels.jsonl", second_split
    assert main([*eval_args(small_corpus, first, second), "--folds", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["folds"]["folds"] == 1
    assert captured.err == ""
    # Named first, the file without a manifest beside it decides, and the command says so.
    assert main([*eval_args(small_corpus, second, first), "--folds", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["folds"]["folds"] == 2
    assert f"no {second.parent / 'manifest.jsonl'}" in captured.err
    assert (
        main(
            [
                *eval_args(small_corpus, second, first),
                "--manifest",
                str(small_corpus / "manifest.jsonl"),
                "--folds",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["folds"]["folds"] == 1


def test_a_labels_file_named_twice_is_an_error(
    small_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = small_corpus / "labels.jsonl"
    same = small_corpus / "pages" / ".." / "labels.jsonl"
    assert main(eval_args(small_corpus, labels, same)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"portalcrawl eval: error: labels file named twice: {same}\n"


def test_a_page_labelled_twice_is_an_error(small_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = small_corpus / "labels.jsonl"
    [label] = load_article_labels(labels)
    other = _write_labels(small_corpus / "other.jsonl", {**label, "title": "another title"})
    assert main(eval_args(small_corpus, labels, other)) == 2
    assert capsys.readouterr().err == (
        f"portalcrawl eval: error: page labelled twice: hanweb.html (in {labels} and {other})\n"
    )
    # A listing label of the same page is a second label of it too, in one file as across files.
    both = _write_labels(small_corpus / "both.jsonl", label, {"file": "hanweb.html", "article_links": []})
    assert main(eval_args(small_corpus, both)) == 2
    assert (
        capsys.readouterr().err == f"portalcrawl eval: error: page labelled twice: hanweb.html (in {both})\n"
    )


def test_label_file_errors_are_one_line_from_the_command_as_cron_runs_it(small_corpus: Path) -> None:
    broken = small_corpus / "broken.jsonl"
    broken.write_text('{"file": "a.html", "title": "x"}\n{"file": "b.html",\n', encoding="utf-8")
    result = run_cli(eval_args(small_corpus, small_corpus / "labels.jsonl", broken))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"portalcrawl eval: error: {broken}:2: not a JSON label (")
    assert result.stderr.count("\n") == 1


@needs_corpus
def test_the_extra_corpus_labels_label_other_pages_of_the_corpus_by_their_kind() -> None:
    """``benchmarks/labels/corpus-extra.jsonl`` is a second split of the shared corpus: it labels
    pages that ``labels.jsonl`` leaves unlabelled, an article as an article and a listing as a listing."""
    kinds = {entry["file"]: entry["kind"] for entry in corpus_manifest()}
    extra = Path(__file__).resolve().parent.parent / "benchmarks" / "labels" / "corpus-extra.jsonl"
    labels = load_labels([CORPUS / "labels.jsonl", extra])  # raises on a page labelled in both
    for label in load_labels([extra]):
        assert kinds.get(label["file"]) == ("article" if "title" in label else "listing"), label["file"]
        assert (CORPUS / "pages" / label["file"]).is_file()
    assert len(labels) > len(load_labels([CORPUS / "labels.jsonl"]))
