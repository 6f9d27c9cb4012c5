"""The README documents every subcommand and the exact set-up commands that CI runs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from portalcrawl.cli import COMMAND_MODULES, build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def registered_commands() -> list[str]:
    """The subcommands the parser really has, whatever COMMAND_MODULES says."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(subparsers.choices)


def test_every_registered_subcommand_is_registered_from_its_module() -> None:
    assert sorted(registered_commands()) == sorted(COMMAND_MODULES)


@pytest.mark.parametrize("command", registered_commands())
def test_every_subcommand_is_documented(command: str) -> None:
    assert re.search(rf"^- `portalcrawl {command}\b", README, re.MULTILINE), (
        f"README lacks `portalcrawl {command}`"
    )


def test_fresh_clone_commands_are_exact() -> None:
    assert "pip install -e . && portalcrawl demo" in README
    assert "pip install -e '.[test]' && pytest" in README


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    assert "pip install --quiet -e '.[test]'" in script
    for command in ("ruff check .", "ruff format --check .", "mypy", "pytest"):
        assert re.search(rf"^{re.escape(command)}(\s|$)", script, re.MULTILINE), command


def test_every_documented_exit_status_is_in_crawl_help() -> None:
    from portalcrawl.cli.crawl import EXIT_STATUS_HELP

    for status in ("0", "1", "2", "75"):
        assert re.search(rf"^\| {status} \|", README, re.MULTILINE)
        assert re.search(rf"^  {status} ", EXIT_STATUS_HELP, re.MULTILINE)
