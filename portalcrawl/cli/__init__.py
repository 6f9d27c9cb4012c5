"""The ``portalcrawl`` command: one console script, one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from portalcrawl import __version__

# Each module defines register(subparsers) that adds its parser and sets ``handler`` to a
# function taking the parsed arguments and returning the exit status.
COMMAND_MODULES = (
    "crawl",
    "demo",
    "extract",
    "links",
    "eval",
    "search",
    "export",
    "show",
    "reextract",
    "stats",
    "runs",
    "errors",
    "health",
    "state",
    "sites",
    "attachments",
    "merge",
    "datasette",
    "diagnose",
    "worker",
    "dispatch",
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TEMPFAIL = 75


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portalcrawl",
        description="Crawl government and regional news portals into a searchable SQLite archive.",
    )
    parser.add_argument("--version", action="version", version=f"portalcrawl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"portalcrawl.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Ctrl-C while the subcommands (and Scrapy) are still being imported is an interruption too,
    # not a KeyboardInterrupt traceback.
    try:
        return _run(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(argv: list[str]) -> int:
    for position, argument in enumerate(argv, start=1):
        # Bytes that are not UTF-8 reach Python as lone surrogates, which SQLite and print() refuse.
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            shown = argument.encode("ascii", "backslashreplace").decode("ascii")
            print(f"portalcrawl: error: argument {position} ({shown}) is not valid UTF-8", file=sys.stderr)
            return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        # `portalcrawl export | head` closes stdout early; that is not an error. Python would report
        # the failed flush of stdout at exit, so stdout is pointed at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
