"""`portalcrawl dispatch`: send batches of profiles to the nodes that own their hosts."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.profiles import (
    ProfileError,
    SiteProfile,
    iter_profile_files,
    load_profile,
    load_profile_file,
)
from portalcrawl.sharding import host_key, owner_node

DEFAULT_BATCH = 10
# How often --wait looks for finished batches.
POLL_SECONDS = 0.5


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dispatch",
        help="send profiles to the cluster nodes that own their hosts (needs [cluster])",
        description="Group the profiles by the node their first start URL's host:port hashes to (the K-th "
        "of --nodes runs what `crawl --all --shard K/N` would), cut each node's list into batches (all "
        "profiles of one host together) and queue them on that node's queue for `portalcrawl worker`.",
        epilog="exit status: 0 sent (with --wait: every batch's crawl exited 0), 1 some batch did not or the "
        "broker cannot be used, "
        "2 usage or profile error, nothing sent",
    )
    parser.add_argument("sites", nargs="*", metavar="SITE", help="profile slug (sites/<SITE>.toml)")
    parser.add_argument("--all", action="store_true", help="every enabled profile")
    parser.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")
    parser.add_argument("--broker", required=True, metavar="URL", help="Redis broker URL")
    parser.add_argument("--nodes", required=True, metavar="a,b,c", help="the node names, in a fixed order")
    parser.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        metavar="N",
        help=f"profiles per batch (default {DEFAULT_BATCH})",
    )
    parser.add_argument("--wait", action="store_true", help="wait for every batch and report its outcome")
    parser.set_defaults(handler=handle)


def plan_batches(profiles: list[SiteProfile], nodes: list[str], size: int) -> list[tuple[str, list[str]]]:
    """(node, slugs) batches: each node's profiles in host order, ``size`` at a time."""
    by_node: dict[str, list[SiteProfile]] = {node: [] for node in nodes}
    for profile in profiles:
        by_node[owner_node(profile, nodes)].append(profile)
    batches = []
    for node, owned in by_node.items():
        owned.sort(key=lambda p: (host_key(p), p.slug))
        batches += [(node, [p.slug for p in owned[i : i + size]]) for i in range(0, len(owned), size)]
    return batches


def _profiles(args: argparse.Namespace) -> list[SiteProfile]:
    if not (args.sites or args.all):
        raise ProfileError("name at least one SITE, or use --all")
    profiles: dict[str, SiteProfile] = {}
    if args.all:
        profiles.update(
            (p.slug, p) for p in map(load_profile_file, iter_profile_files(args.dir)) if p.enabled
        )
    for slug in args.sites:
        profiles[slug] = load_profile(slug, args.dir)
    if not profiles:
        raise ProfileError(f"--all: no enabled site profile in {args.dir or 'the packaged sites/'}")
    return list(profiles.values())


def handle(args: argparse.Namespace) -> int:
    try:
        from kombu.exceptions import OperationalError  # noqa: PLC0415 - Celery is an optional extra

        from portalcrawl import cluster  # noqa: PLC0415
    except ImportError as error:
        print(
            f"portalcrawl dispatch: error: {error.name} is missing; pip install 'portalcrawl[cluster]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    nodes = [node.strip() for node in args.nodes.split(",") if node.strip()]
    if not nodes or len(set(nodes)) != len(nodes):
        print(
            f"portalcrawl dispatch: error: --nodes {args.nodes!r}: distinct names, comma-separated",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.batch < 1:
        print(
            f"portalcrawl dispatch: error: --batch {args.batch}: must be a positive integer", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        batches = plan_batches(_profiles(args), nodes, args.batch)
    except ProfileError as error:
        print(f"portalcrawl dispatch: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    app = cluster.make_app(args.broker)
    try:
        cluster.check_broker(app)
        results = []
        for number, (node, slugs) in enumerate(batches, 1):
            result = app.send_task(cluster.TASK_NAME, args=[slugs], queue=cluster.queue_name(node))
            results.append(result)
            print(f"batch {number} → node {node}: {' '.join(slugs)} (task {result.id})", flush=True)
        if not args.wait:
            return EXIT_OK
        return _report(results, batches)
    except cluster.BrokerUnavailable as error:
        print(f"portalcrawl dispatch: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (OperationalError, OSError) as error:
        print(f"portalcrawl dispatch: error: lost the broker: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        app.close()


def _report(results: list[Any], batches: list[tuple[str, list[str]]]) -> int:
    """Print each batch's outcome as it ends; exit 0 only if every batch's crawl exited 0."""
    pending = dict(enumerate(results, 1))
    status = EXIT_OK
    while pending:
        for number, result in list(pending.items()):
            if not result.ready():
                continue
            del pending[number]
            node, slugs = batches[number - 1]
            if result.successful():
                outcome = result.result
                retried = (
                    f" (attempt {outcome['attempts']}, the shard was locked)"
                    if outcome["attempts"] > 1
                    else ""
                )
                print(
                    f"batch {number} on node {node} ({' '.join(slugs)}): "
                    f"crawl exit {outcome['exit_status']}{retried}"
                )
                print("\n".join("    " + line for line in outcome["summary"].splitlines()))
                if outcome["exit_status"] != EXIT_OK:
                    status = EXIT_FAILED
                    if outcome["stderr"].strip():
                        print("    " + outcome["stderr"].strip().splitlines()[-1])
            else:
                print(f"batch {number} on node {node} ({' '.join(slugs)}): task failed: {result.result!r}")
                status = EXIT_FAILED
            sys.stdout.flush()
        if pending:
            time.sleep(POLL_SECONDS)
    return status
