"""Client processes for the team-project tests: each opens the project as its own reviewer and
makes random decisions and edits, printing one JSON line per change *after* its commit
returned ("ack"), so the test knows exactly what was acknowledged.

Run as ``python tests/team_clients.py LOCATION REVIEWER SEED OPS [--forever]``.
"""

from __future__ import annotations

import json
import random
import sys
import time

from labelfix.core import edits
from labelfix.core.store import ConflictError, ConnectionLost, Store

CATEGORIES = list(range(1, 11))


def say(**record: object) -> None:
    """One line per event, flushed at once (the parent reads them as they come)."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def one_change(store: Store, rng: random.Random, set_id: int, labels: list[int]) -> None:
    """Claim and decide, or edit a random label based on the revision just read."""
    roll = rng.random()
    if roll < 0.35:
        keys = store.claim_suspects(set_id, 2)
        say(event="claim", keys=keys, session=store.session)
        for key in keys:
            decision = rng.choice(edits.DECISIONS)
            edit = edits.SetDecision(set_id, key, decision)
            edit.apply(store)
            say(event="ack", edit_id=edit.edit_id, kind="decision", key=key, decision=decision)
        return
    label = rng.choice(labels)
    seen = store.annotation(label)
    if seen is None:
        return
    if rng.random() < 0.5:
        edit: edits.Edit = edits.SetCategory(
            label, rng.choice(CATEGORIES), revision=seen["revision"]
        )
    else:
        x, y, w, h = (float(v) for v in seen["bbox"])
        nudge = rng.uniform(-3, 3)
        edit = edits.SetGeometry(label, bbox=[x + nudge, y, w, h], revision=seen["revision"])
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0, 0.02))  # someone else may change it meanwhile
    try:
        edit.apply(store)
    except ConflictError as exc:
        say(event="conflict", label=label, by=exc.reviewer)
        return
    say(event="ack", edit_id=edit.edit_id, kind="label", label=label)


def main() -> None:
    location, reviewer, seed, ops = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    forever = "--forever" in sys.argv
    rng = random.Random(seed)
    store = Store.open(location, reviewer=reviewer)
    set_id = store.active_set_id()
    labels = [int(i) for i in store.label_columns()[0][:, 0]]
    say(event="ready", session=store.session)
    done = 0
    while forever or done < ops:
        try:
            one_change(store, rng, set_id, labels)
        except ConnectionLost as exc:
            say(event="lost", message=str(exc), in_doubt=exc.in_doubt)
            time.sleep(0.2)
        done += 1
    store.close()
    say(event="done")


if __name__ == "__main__":
    main()
