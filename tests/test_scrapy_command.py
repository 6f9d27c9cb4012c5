"""`scrapy crawl portal` with wrong arguments: one clear line and exit status 2, no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("spider_args", "message"),
    [
        (["-a", "site=no-such-site"], "unknown site 'no-such-site'"),
        (["-a", "url=notaurl"], "-a url: 'notaurl' is not an http(s) URL"),
        (["-a", "url=http://127.0.0.1:9/", "-a", "max_pages=x"], "-a max_pages: expected a positive integer"),
        ([], "give exactly one of -a site=SLUG or -a url=URL"),
    ],
)
def test_bad_spider_arguments_are_one_line_usage_errors(
    spider_args: list[str], message: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "portal",
            *spider_args,
            "-s",
            f"PORTALCRAWL_DB_PATH={tmp_path}/a.db",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"error: portal spider: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "a.db").exists()
