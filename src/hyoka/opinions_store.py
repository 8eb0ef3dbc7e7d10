"""Opinions and replies in the store (tables ``opinion_files``, ``opinions``, ``opinion_replies``).

Every file read is a row of ``opinion_files``, accepted or rejected; an accepted file's opinions or
replies stay forever. What is in force is the latest accepted file per (meeting, kind, source):
the latest imported table of the meeting, each member's latest form, each department's latest
reply form. Each accepted file is stored in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hyoka import __version__
from hyoka.opinions import Opinion, Reply, Subject
from hyoka.store import Store

IMPORT, MEMBER_FORM, REPLY_FORM = "opinions-import", "opinions-form", "replies-form"


def _in_force_ids(store: Store, meeting: str, kinds: Sequence[str]) -> list[int]:
    marks = ",".join("?" for _ in kinds)
    rows = store.conn.execute(
        f"SELECT MAX(id) FROM opinion_files WHERE meeting = ? AND status = 'accepted' AND kind IN ({marks})"
        " GROUP BY kind, source",
        (meeting, *kinds),
    ).fetchall()
    return [r[0] for r in rows]


def add_file(
    store: Store,
    *,
    meeting: str,
    kind: str,
    source: str,
    file_name: str,
    file_path: str,
    sha256: str,
    problems: Sequence[dict[str, object]],
    opinions: Sequence[Opinion] = (),
    replies: Sequence[Reply] = (),
    accepted: bool = True,
    file_mtime: float | None = None,
) -> int:
    with store.transaction() as db:
        cur = db.execute(
            "INSERT INTO opinion_files (meeting, kind, source, file_name, file_path, sha256, received_at, status,"
            " row_count, problems, hyoka_version, file_mtime) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                meeting,
                kind,
                source,
                file_name,
                file_path,
                sha256,
                datetime.now().isoformat(timespec="seconds"),
                "accepted" if accepted else "rejected",
                len(opinions) + len(replies),
                json.dumps(list(problems), ensure_ascii=False),
                __version__,
                file_mtime,
            ),
        )
        fid = cur.lastrowid
        assert fid is not None
        db.executemany(
            "INSERT INTO opinions (file_id, meeting, opinion_key, seq, subject, member, text, departments, rating,"
            " sheet, cell) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    fid,
                    meeting,
                    o.key,
                    o.seq,
                    o.subject.code,
                    o.member,
                    o.text,
                    json.dumps(list(o.departments), ensure_ascii=False),
                    o.rating,
                    o.sheet,
                    o.cell,
                )
                for o in opinions
            ],
        )
        db.executemany(
            "INSERT INTO opinion_replies (file_id, meeting, opinion_key, department, text, sheet, cell)"
            " VALUES (?,?,?,?,?,?,?)",
            [(fid, meeting, r.opinion_key, r.department, r.text, r.sheet, r.cell) for r in replies],
        )
    return fid


@dataclass(frozen=True)
class InForceFile:
    """The accepted file in force for one (meeting, kind, source): what a newer file replaces."""

    file_name: str
    file_mtime: float | None
    received_at: datetime


def in_force(store: Store, meeting: str, kind: str, source: str) -> InForceFile | None:
    row = store.conn.execute(
        "SELECT file_name, file_mtime, received_at FROM opinion_files WHERE meeting = ? AND kind = ?"
        " AND source = ? AND status = 'accepted' ORDER BY id DESC LIMIT 1",
        (meeting, kind, source),
    ).fetchone()
    if row is None:
        return None
    return InForceFile(row[0], row[1], datetime.fromisoformat(row[2]))


def current_opinions(store: Store, meeting: str) -> list[Opinion]:
    ids = _in_force_ids(store, meeting, (IMPORT, MEMBER_FORM))
    if not ids:
        return []
    marks = ",".join("?" for _ in ids)
    rows = store.conn.execute(
        "SELECT opinion_key, meeting, subject, text, departments, member, seq, rating, sheet, cell"
        f" FROM opinions WHERE file_id IN ({marks}) ORDER BY id",
        ids,
    ).fetchall()
    return [
        Opinion(
            key=r[0],
            meeting=r[1],
            subject=Subject.parse(r[2]),
            text=r[3],
            departments=tuple(json.loads(r[4])),
            member=r[5],
            seq=r[6],
            rating=r[7],
            sheet=r[8],
            cell=r[9],
        )
        for r in rows
    ]


def current_replies(store: Store, meeting: str) -> list[Reply]:
    ids = _in_force_ids(store, meeting, (REPLY_FORM,))
    if not ids:
        return []
    marks = ",".join("?" for _ in ids)
    rows = store.conn.execute(
        f"SELECT opinion_key, department, text, sheet, cell FROM opinion_replies WHERE file_id IN ({marks})"
        " ORDER BY id",
        ids,
    ).fetchall()
    return [Reply(*tuple(r)) for r in rows]


def accepted_hashes(store: Store, meeting: str, kind: str) -> set[str]:
    rows = store.conn.execute(
        "SELECT sha256 FROM opinion_files WHERE meeting = ? AND kind = ? AND status = 'accepted'",
        (meeting, kind),
    ).fetchall()
    return {r[0] for r in rows}


def files(store: Store, meeting: str) -> list[dict[str, object]]:
    """Every file of the meeting, oldest first (for audits and tests)."""
    rows = store.conn.execute(
        "SELECT id, kind, source, file_name, status, row_count FROM opinion_files WHERE meeting = ? ORDER BY id",
        (meeting,),
    ).fetchall()
    return [dict(r) for r in rows]
