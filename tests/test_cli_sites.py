"""`portalcrawl sites`: the listing of profiles and `--check` with its exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from portalcrawl.cli import main
from portalcrawl.cli.sites import display_width

GOOD = 'name = "某某县人民政府"\nstart_urls = ["https://www.a.gov.cn/xwzx/", "https://www.a.gov.cn/tzgg/"]\n'


def test_lists_the_packaged_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["slug", "name", "enabled", "start", "URLs"]
    assert "beijing-gzdt" in out
    assert "https://fgw.zj.gov.cn/col/col1621004/index.html" in out


def test_check_passes_on_the_packaged_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "--check"]) == 0
    assert "3 valid, 0 invalid" in capsys.readouterr().out


def test_every_start_url_is_listed_and_cjk_names_stay_aligned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "county.toml").write_text(GOOD + "enabled = false\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text('name = "B"\nstart_urls = ["https://b.example.cn/"]\n', encoding="utf-8")
    assert main(["sites", "--dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines[1:3]] == [
        ["b", "B", "yes"],
        ["county", "某某县人民政府", "no"],
    ]
    assert lines[3].strip() == "https://www.a.gov.cn/tzgg/"
    assert lines[3].index("https://") == lines[1].index("https://")
    # 某某县人民政府 is 7 characters but 14 terminal columns wide; the next column still lines up.
    assert display_width(lines[2][: lines[2].index("no ")]) == display_width(
        lines[1][: lines[1].index("yes")]
    )
    assert display_width(lines[2][: lines[2].index("https")]) == display_width(
        lines[1][: lines[1].index("https")]
    )


def test_check_reports_each_bad_file_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "typo.toml").write_text(GOOD + "max_page = 3\n", encoding="utf-8")
    (tmp_path / "broken.toml").write_text("name = \n", encoding="utf-8")
    assert main(["sites", "--check", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"ok       {tmp_path / 'good.toml'}" in out
    assert f"invalid  {tmp_path / 'typo.toml'}: max_page: unknown key (known keys:" in out
    assert f"invalid  {tmp_path / 'broken.toml'}: invalid TOML:" in out
    assert "1 valid, 2 invalid" in out


def test_listing_still_shows_valid_profiles_beside_an_invalid_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.toml").write_text('name = "x"\n', encoding="utf-8")
    assert main(["sites", "--dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "good" in captured.out
    assert captured.err.strip() == f"portalcrawl: error: {tmp_path / 'bad.toml'}: start_urls: missing"


def test_missing_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "--dir", str(tmp_path / "nope")]) == 2
    assert "no such directory" in capsys.readouterr().err
