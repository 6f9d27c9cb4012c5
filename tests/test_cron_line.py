"""The README's crontab works for a virtualenv install, in cron's bare environment.

A virtualenv gets this checkout installed (it sees the test machine's packages through
``--system-site-packages``, so nothing is downloaded); the README's cron lines then run under
``env -i`` with only the crontab's PATH, stdin from /dev/null, in place of ``/srv/portalcrawl``.
"""

from __future__ import annotations

import re
import subprocess
import venv
from pathlib import Path

import pytest
import sqlite_utils

from portalcrawl.demo.server import PortalServer

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE_DIR = "/srv/portalcrawl"
# Build with the machine's setuptools and wheel, fetch nothing.
OFFLINE = ["--no-build-isolation", "--no-index"]


def crontab() -> tuple[str, list[str]]:
    """The PATH the README's crontab sets and the commands of its entries (after the five time fields)."""
    block = re.search(r"```cron\n(.*?)```", README, re.DOTALL)
    assert block, "README has no cron block"
    lines = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    path = next(line.removeprefix("PATH=") for line in lines if line.startswith("PATH="))
    commands = [line.split(None, 5)[5] for line in lines if not line.startswith("PATH=")]
    return path, commands


def run_as_cron(command: str, path: str, project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/usr/bin/env", "-i", f"PATH={path}", "/bin/sh", "-c", command.replace(EXAMPLE_DIR, str(project))],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.slow
def test_the_readme_crontab_runs_a_virtualenv_install_in_crons_environment(tmp_path: Path) -> None:
    project = tmp_path / "portalcrawl"
    venv.create(project / ".venv", system_site_packages=True, with_pip=False)
    # The virtualenv's python runs the machine's pip (seen through the system site-packages), so the
    # package and its console script land in the virtualenv, the script starting its python.
    python = project / ".venv" / "bin" / "python"
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", *OFFLINE, ROOT],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    assert (project / ".venv" / "bin" / "portalcrawl").is_file()
    path, (crawl, health) = crontab()
    assert f"{EXAMPLE_DIR}/.venv/bin/portalcrawl crawl" in crawl
    (project / "sites").mkdir()
    (project / "output").mkdir()
    with PortalServer(ROOT / "tests" / "portals" / "trs") as server:
        (project / "sites" / "city.toml").write_text(
            f'name = "示例市"\nstart_urls = ["{server.start_url("jrjj")}"]\n', encoding="utf-8"
        )
        # Politeness off for the loopback portal, as a setting a crontab line could carry too.
        fast = " -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False"
        result = run_as_cron(crawl.replace(" --dir sites", f" --dir sites{fast}"), path, project)
    assert result.returncode == 0, result.stdout + result.stderr
    log = (project / "output" / "cron.log").read_text(encoding="utf-8")
    assert re.search(r"^city\s+ok\s", log, re.MULTILINE), log
    assert sqlite_utils.Database(project / "output" / "portalcrawl.db")["articles"].count == 32
    # Healthy: the health line prints nothing, so cron mails nothing.
    checked = run_as_cron(health, path, project)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
