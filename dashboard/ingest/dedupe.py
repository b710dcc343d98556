"""Repeated event ids: revisions, identical copies, one row per actor, and real clashes.

Among the rows that passed the checks, the rows of one id are settled in this order:

1. ACLED revisions: rows with an older `timestamp` than the id's newest are
   replaced by it (ACLED's rule: the latest edit of an event is the event).
2. Identical rows (every field of the file the same) collapse into the first.
3. Rows differing only in their actors (ACLED's one-row-per-actor layout:
   actor1/assoc_actor_1/inter1 or actor2/assoc_actor_2/inter2) merge into
   one event whose actor1 and actor2 list every actor, "; " between them, in
   the order of the file.
4. Rows still differing are different events that share an id: the first
   keeps it, the others load as ID~2, ID~3 ... with a warning -- or, with
   `on_duplicate="reject"`, are rejected.

Accounting: rows read = loaded (events) + rejected + folded, where "folded"
counts the rows of 1-3, each listed in `folded` (row, event_id, how, into_row).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

FOLD_WORDS = {
    "identical": ("identical row collapsed", "identical rows collapsed"),
    "actors": ("actor row merged", "actor rows merged"),
    "revision": ("older revision replaced by a newer one", "older revisions replaced by newer ones"),
}
ON_DUPLICATE = ("keep", "reject")


def empty_folded() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series([], dtype="int64"), "event_id": [], "how": [], "into_row": pd.Series([], dtype="int64")})


def settle_duplicates(events, raw, actor_columns, timestamps=None, on_duplicate="keep", taken=None):
    """(events, extra rejects, extra warnings, folded) -- see the module's text.

    taken: more ids of the file that a new ID~N must not take (a streamed
    import settles only the rows whose id repeats, and passes the others' ids)."""
    if events["event_id"].is_unique:  # the usual case, ~4x cheaper to tell than which ids repeat
        return events, [], [], empty_folded()
    repeated = events["event_id"].duplicated(keep=False).to_numpy()
    sub = events.loc[repeated, ["event_id", "source_row"]]
    content = [c for c in raw.columns if not c.startswith("_")]
    rows_raw = raw.set_index("_row").loc[sub["source_row"].to_numpy(), content]
    full = pd.util.hash_pandas_object(rows_raw, index=False).to_numpy()
    rest_columns = [c for c in content if c not in set(actor_columns)]
    rest = pd.util.hash_pandas_object(rows_raw[rest_columns], index=False).to_numpy() if rest_columns else np.zeros(len(sub), np.uint64)
    stamp = (
        timestamps.reindex(sub["source_row"].to_numpy()).to_numpy(dtype=float)
        if timestamps is not None else np.full(len(sub), np.nan)
    )
    taken = set(events["event_id"]) | set(taken or ())
    drop, folded, rejects, warnings = [], [], [], []
    new_ids, actor1, actor2 = {}, {}, {}
    positions = np.flatnonzero(repeated)
    for event_id, group in pd.Series(np.arange(len(sub))).groupby(sub["event_id"].to_numpy(), sort=False):
        members = list(group.to_numpy())
        lines = sub["source_row"].to_numpy()[members]
        stamps = stamp[members]
        if np.isfinite(stamps).any() and np.nanmax(stamps) != np.nanmin(stamps):
            newest = np.nanmax(stamps)
            old = [m for m, s in zip(members, stamps) if not s == newest]
            first_new = next(line for line, s in zip(lines, stamps) if s == newest)
            folded += [(int(sub["source_row"].iat[m]), event_id, "revision", int(first_new)) for m in old]
            drop += [positions[m] for m in old]
            members = [m for m in members if m not in set(old)]
        clusters: dict[int, list[int]] = {}  # rows of the same content apart from actors
        for m in members:
            clusters.setdefault(int(rest[m]), []).append(m)
        for number, cluster in enumerate(clusters.values(), start=1):
            head = cluster[0]
            head_line = int(sub["source_row"].iat[head])
            seen_full = {int(full[head])}
            for m in cluster[1:]:
                how = "identical" if int(full[m]) in seen_full else "actors"
                seen_full.add(int(full[m]))
                folded.append((int(sub["source_row"].iat[m]), event_id, how, head_line))
                drop.append(positions[m])
            if len(seen_full) > 1:
                members_events = events.iloc[[positions[m] for m in cluster]]
                actor1[positions[head]] = _joined(members_events["actor1"])
                actor2[positions[head]] = _joined(members_events["actor2"])
            if number == 1:
                first_line = head_line
                continue
            if on_duplicate == "reject":
                rejects.append((head_line, "event_id", f"duplicate event_id with different content (first on row {first_line})", event_id))
                drop.append(positions[head])
                continue
            derived = _free_id(event_id, number, taken)
            new_ids[positions[head]] = derived
            warnings.append((head_line, "event_id", f"event_id repeated with different content (first on row {first_line}); loaded as {derived}", event_id))
    events = events.copy()
    for position, value in actor1.items():
        events.iat[position, events.columns.get_loc("actor1")] = value
    for position, value in actor2.items():
        events.iat[position, events.columns.get_loc("actor2")] = value
    for position, value in new_ids.items():
        events.iat[position, events.columns.get_loc("event_id")] = value
    keep = np.ones(len(events), dtype=bool)
    keep[np.asarray(drop, dtype=np.int64)] = False
    events = events[keep].reset_index(drop=True)
    folded_table = pd.DataFrame(folded, columns=["row", "event_id", "how", "into_row"]) if folded else empty_folded()
    return events, rejects, warnings, folded_table.sort_values("row", ignore_index=True)


def _joined(values: pd.Series) -> str:
    return "; ".join(dict.fromkeys(v for v in values if v))


def _free_id(event_id: str, number: int, taken: set) -> str:
    candidate = f"{event_id}~{number}"
    while candidate in taken:
        number += 1
        candidate = f"{event_id}~{number}"
    taken.add(candidate)
    return candidate


def fold_counts(folded: pd.DataFrame) -> list[str]:
    """["3 identical rows collapsed", ...] for the report line."""
    counts = folded["how"].value_counts() if len(folded) else {}
    return [f"{n} {FOLD_WORDS[how][int(n != 1)]}" for how, n in dict(counts).items()]
