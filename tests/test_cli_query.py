"""`portalcrawl search | export | stats | runs` on a real archive file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from portalcrawl.cli import main
from portalcrawl.database import finish_run, open_database, record_fetch_error, start_run, upsert_articles
from portalcrawl.items import Article


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    path = tmp_path / "archive.db"
    db = open_database(path)
    run1 = start_run(db, "kjj", {"site": "kjj"})
    upsert_articles(
        db,
        [
            Article(
                url="https://kjj.example.gov.cn/art/1.html",
                site="kjj",
                title="关于开展科技创新项目申报工作的通知",
                published_at="2026-01-16T19:01:55+08:00",
                body_text="各有关单位：现将科技创新项目申报有关事项通知如下。",
            ),
            Article(
                url="https://kjj.example.gov.cn/art/2.html",
                site="kjj",
                title="召开工作会议",
                published_at="2026-01-20",
                body_text="会议部署全年工作。",
            ),
        ],
        run1,
    )
    record_fetch_error(db, run1, "https://kjj.example.gov.cn/art/3.html", 404, "http_404")
    finish_run(db, run1, status="partial", reason="finished", requests=10, errors=1, new_articles=2)
    run2 = start_run(db, "news", {})
    upsert_articles(db, [Article(url="https://news.example.com/1.html", site="news", title="新闻会议")], run2)
    finish_run(db, run2, status="blocked", reason="finished", blocked_kind="waf_ruishu", requests=4, errors=4)
    db.close()
    return str(path)


def test_search_prints_matches(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "科技创新", "--db", db_path]) == 0
    out = capsys.readouterr().out
    assert "2026-01-16  kjj  关于开展科技创新项目申报工作的通知" in out
    assert "https://kjj.example.gov.cn/art/1.html" in out
    assert "[科技创新]" in out


def test_search_json_two_characters_with_site(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "会议", "--site", "kjj", "--json", "--db", db_path]) == 0
    [line] = capsys.readouterr().out.splitlines()
    match = json.loads(line)
    assert match["url"] == "https://kjj.example.gov.cn/art/2.html"
    assert match["site"] == "kjj"


def test_search_nothing_found_exits_1(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "不存在的词", "--db", db_path]) == 1
    assert "no articles match" in capsys.readouterr().err


def test_export_jsonl_to_stdout(db_path: str, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["export", "--site", "kjj", "--db", db_path]) == 0
    lines = capfdbinary.readouterr().out.decode("utf-8").splitlines()
    assert [json.loads(line)["url"] for line in lines] == [
        "https://kjj.example.gov.cn/art/1.html",
        "https://kjj.example.gov.cn/art/2.html",
    ]


def test_export_csv_file_with_bom(db_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "articles.csv"
    assert (
        main(["export", "--format", "csv", "--bom", "--since", "2026-01-18", "-o", str(out), "--db", db_path])
        == 0
    )
    assert "1 articles written" in capsys.readouterr().err
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("\ufeffid,url,")
    assert "召开工作会议" in text
    assert "关于开展" not in text


def test_export_bom_needs_csv(db_path: str) -> None:
    assert main(["export", "--bom", "--db", db_path]) == 2


def test_stats(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", db_path]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("kjj", "news"))}
    assert lines["kjj"][1:3] == ["2", "2026-01-20"]
    assert "partial" in lines["kjj"]
    assert "10.0%" in lines["kjj"]
    assert "blocked" in lines["news"]
    assert "waf_ruishu" in lines["news"]
    assert "3 articles in 2 sites" in out


def test_runs(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--db", db_path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["run", "site"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]
    assert main(["runs", "--site", "kjj", "--limit", "5", "--db", db_path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines[1:]] == ["kjj"]


def test_runs_shows_a_killed_run_as_failed_killed(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    db = open_database(db_path)
    live = start_run(db, "kjj", {})  # this process: still running
    dead = start_run(db, "kjj", {})
    db["crawl_runs"].update(dead, {"pid": gone.pid})
    db.close()
    assert main(["runs", "--db", db_path]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert " running " in lines[str(live)]
    words = lines[str(dead)].split()
    assert words[words.index("failed") + 1] == "killed"
    assert "running" not in words


@pytest.mark.parametrize("command", [["search", "会议"], ["export"], ["stats"], ["runs"]])
def test_missing_database_is_one_line_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"
    assert main([*command, "--db", str(missing)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "no database at" in err
    assert not missing.exists()


def test_search_output_is_aligned_under_the_title(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "会议", "--db", db_path]) == 0
    lines = capsys.readouterr().out.splitlines()
    title_column = lines[0].index("召开工作会议")
    # Two sites of different widths: every title, URL and snippet starts in the same column.
    assert all(len(line) - len(line.lstrip()) == title_column for i, line in enumerate(lines) if i % 3)
    assert lines[3].startswith("----------  news ")
    assert lines[3].index("新闻会议") == title_column


def test_search_until_and_order_from_the_command_line(
    db_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "科技创新", "--until", "2026-01-15", "--db", db_path]) == 1
    assert (
        main(["search", "会议", "--until", "2026-01", "--order", "relevance", "--json", "--db", db_path]) == 0
    )
    urls = [json.loads(line)["url"] for line in capsys.readouterr().out.splitlines()]
    assert urls == ["https://kjj.example.gov.cn/art/2.html"]


@pytest.mark.parametrize("value", ["2026-13-01", "2026/01/01", "yesterday", "2026-02-30"])
def test_impossible_date_bounds_are_usage_errors(
    db_path: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--until", value, "--db", db_path]) == 2
    assert f"--until {value!r}: expected a date YYYY-MM-DD" in capsys.readouterr().err


def test_export_chosen_columns_in_order(db_path: str, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["export", "--format", "csv", "--columns", "url,published_date,title", "--db", db_path]) == 0
    lines = capfdbinary.readouterr().out.decode("utf-8").splitlines()
    assert lines[0] == "url,published_date,title"
    assert lines[1] == "https://kjj.example.gov.cn/art/1.html,2026-01-16,关于开展科技创新项目申报工作的通知"
    assert main(["export", "--columns", "url,title", "--until", "2026-01-16", "--db", db_path]) == 0
    records = [json.loads(line) for line in capfdbinary.readouterr().out.decode("utf-8").splitlines()]
    assert records == [
        {"url": "https://kjj.example.gov.cn/art/1.html", "title": "关于开展科技创新项目申报工作的通知"}
    ]


def test_export_unknown_column_is_a_usage_error(db_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--columns", "url,nonsense", "--db", db_path])
    assert exit_info.value.code == 2
    assert "unknown column 'nonsense'" in capsys.readouterr().err


def test_snippets_wrap_by_display_width_and_marks_take_no_columns() -> None:
    from portalcrawl.cli.search import wrap_display
    from portalcrawl.cli.sites import display_width

    marks = ("\x1b[1;31m", "\x1b[0m")
    text = f"各区县{marks[0]}安全生产{marks[1]}工作会议 held in 2026，要求落实责任。"
    lines = wrap_display(text, 10, marks)
    assert "".join(lines) == text
    assert all(display_width(line.replace(marks[0], "").replace(marks[1], "")) <= 10 for line in lines)
    assert wrap_display(text, None, marks) == [text]
