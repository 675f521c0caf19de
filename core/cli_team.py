"""The team commands of the headless CLI: push, pull, projects, claim, reviewers, decisions,
changes.

A team project lives on a PostgreSQL server (``postgresql://HOST[:PORT]/DB?project=NAME``);
credentials come from libpq's usual places (``PGPASSWORD``, ``~/.pgpass``, service files), and
no command prints or remembers a password.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from . import project, settings
from .errors import KINDS
from .store import ConnectionLost


def _open(args: argparse.Namespace, *, readonly: bool = False) -> project.Store:
    from .cli import open_from

    return open_from(args, readonly=readonly)


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def cmd_push(args: argparse.Namespace) -> int:
    """Publish a project file as a team project."""
    from .cli import ProgressBar

    bar = ProgressBar("publishing", args.quiet)
    t0 = time.perf_counter()
    counts = project.push_project(
        args.file, args.url, project=args.team_project, overwrite=args.overwrite, progress=bar
    )
    bar.close()
    where = project.parse_location(args.url, args.team_project)
    _say(
        args,
        f"published {args.file} as {where} ({counts['images']} images, "
        f"{counts['annotations']} labels, {counts['suspects']} suspects, "
        f"{counts['change_log']} change-log entries) in {time.perf_counter() - t0:.2f} s",
    )
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    """Make a local project file of a team project."""
    from .cli import ProgressBar

    bar = ProgressBar("copying", args.quiet)
    counts = project.pull_project(
        args.url,
        args.output,
        project=args.team_project,
        images=args.images,
        overwrite=args.overwrite,
        progress=bar,
    )
    bar.close()
    _say(
        args,
        f"copied {project.parse_location(args.url, args.team_project)} to {args.output} "
        f"({counts['annotations']} labels, {counts['change_log']} change-log entries)",
    )
    return 0


def cmd_projects(args: argparse.Namespace) -> int:
    """List the team projects on a server's database."""
    for name in project.team_projects(args.url):
        print(name)
    return 0


def cmd_claim(args: argparse.Namespace) -> int:
    """Claim open suspects to review (nobody else gets them until the claim expires)."""
    with _open(args) as store:
        set_id = store.resolve_set(args.predictions)
        if args.release:
            n = store.release_claims(set_id)
            _say(args, f"released {n} claim(s)")
            return 0
        if args.renew:
            n = store.renew_claims(set_id, args.minutes * 60)
            _say(args, f"renewed {n} claim(s) for {args.minutes:g} minutes")
            return 0
        keys = store.claim_suspects(
            set_id,
            args.count,
            seconds=args.minutes * 60,
            kinds=args.kind,
            min_confidence=args.min_confidence,
        )
        for key in keys:
            print(key)
        mine = len(store.my_claims(set_id))
        _say(
            args,
            f"claimed {len(keys)} suspect(s) for {args.minutes:g} minutes as {store.reviewer} "
            f"({mine} claimed in all; list them with `labelfix suspects ... --claimed`)",
        )
    return 0


def cmd_reviewers(args: argparse.Namespace) -> int:
    """Each reviewer's decisions and label edits (the lead's view)."""
    with _open(args, readonly=True) as store:
        counts = store.reviewer_counts(store.resolve_set(args.predictions))
        if args.format == "json":
            print(json.dumps(counts, indent=1))
            return 0
        print(
            f"{'reviewer':<20}{'decided':>9}{'accepted':>10}{'rejected':>10}{'flagged':>9}"
            f"{'label edits':>13}"
        )
        for name, c in counts.items():
            print(
                f"{name[:19]:<20}{c['decided']:>9}{c['accepted']:>10}{c['rejected']:>10}"
                f"{c['flagged']:>9}{c['label_edits']:>13}"
            )
    return 0


def cmd_decisions(args: argparse.Namespace) -> int:
    """List decisions, one JSON object per line (only a reviewer's with --by)."""
    with _open(args, readonly=True) as store:
        rows = store.decisions_by_reviewer(store.resolve_set(args.predictions), args.by)
        for row in rows:
            sys.stdout.write(json.dumps(row) + "\n")
        _say(args, f"{len(rows)} decision(s)")
    return 0


def cmd_changes(args: argparse.Namespace) -> int:
    """Print change-log entries after --since, one JSON object per line; with --follow, keep
    printing others' changes as they are committed (Ctrl+C stops)."""
    with _open(args, readonly=True) as store:
        feed = store.change_feed(args.since)
        try:
            while True:
                try:
                    entries = feed.poll(timeout=2.0 if args.follow else 0.0)
                except ConnectionLost as exc:
                    if not args.follow:
                        raise
                    _say(args, f"labelfix: {exc}; retrying")
                    time.sleep(2.0)
                    continue
                for entry in entries:
                    sys.stdout.write(json.dumps(entry) + "\n")
                sys.stdout.flush()
                if not args.follow and not entries:
                    break
        finally:
            feed.close()
    return 0


def cmd_reviewer(args: argparse.Namespace) -> int:
    """Show (or with a name, remember) who you review as on this machine."""
    if args.name is not None:
        settings.set_reviewer_name(args.name or None)
    print(settings.reviewer_name())
    return 0


def add_commands(
    add: Callable[..., argparse.ArgumentParser],
    project_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register the team commands on the CLI's subparsers."""
    p = add("push", cmd_push, "publish a project file as a team project on a PostgreSQL server")
    p.add_argument("file", help="the project file (X.labelfix)")
    p.add_argument("url", help="postgresql://HOST[:PORT]/DB (credentials: PGPASSWORD, ~/.pgpass)")
    p.add_argument("--project", dest="team_project", metavar="NAME", help="the team project's name")
    p.add_argument("--overwrite", action="store_true", help="replace a team project of that name")

    p = add("pull", cmd_pull, "make a local project file of a team project")
    p.add_argument("url", help="postgresql://HOST[:PORT]/DB?project=NAME")
    p.add_argument("-o", "--output", required=True, help="the project file to write (X.labelfix)")
    p.add_argument("--project", dest="team_project", metavar="NAME", help="the team project's name")
    p.add_argument("--images", metavar="DIR", help="the image folder (default: this machine's)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")

    p = add("projects", cmd_projects, "list the team projects on a PostgreSQL server")
    p.add_argument("url", help="postgresql://HOST[:PORT]/DB")

    p = add("claim", cmd_claim, "claim open suspects to review, so nobody else reviews them")
    project_options(p)
    p.add_argument("-n", "--count", type=int, default=50, help="how many objects (50; each with all its open suspects)")
    p.add_argument("--minutes", type=float, default=15.0, help="how long the claim lasts (15)")
    p.add_argument("--kind", action="append", choices=KINDS, help="only this kind (repeatable)")
    p.add_argument("--min-confidence", type=float, default=0.0, help="least confidence (0)")
    p.add_argument("--release", action="store_true", help="give back all your claims")
    p.add_argument("--renew", action="store_true", help="extend your claims by --minutes")
    p.add_argument("--predictions", help="prediction set name (default: the active one)")

    p = add("reviewers", cmd_reviewers, "each reviewer's decisions and label edits")
    project_options(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--predictions", help="prediction set name (default: the active one)")

    p = add("decisions", cmd_decisions, "list the review decisions (of one reviewer with --by)")
    project_options(p)
    p.add_argument("--by", metavar="REVIEWER", help="only this reviewer's decisions")
    p.add_argument("--predictions", help="prediction set name (default: the active one)")

    p = add("changes", cmd_changes, "print the change log; --follow prints others' changes live")
    project_options(p)
    p.add_argument("--since", type=int, default=0, help="after this change-log seq (0: all)")
    p.add_argument("--follow", action="store_true", help="keep printing new changes")

    p = add("reviewer", cmd_reviewer, "show or set who you review as on this machine")
    p.add_argument("name", nargs="?", help="the name to remember ('' forgets it)")
