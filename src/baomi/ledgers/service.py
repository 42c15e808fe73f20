"""Scan a folder for private ledgers (C4.1.3): which files hold customer data, and how much.

`baomi scan PATH` walks a folder (a salesperson's disk, a department share), reads the files
ledgers are kept in (detect/extract.py), finds identifiers by their check digits
(detect/finder.py) and, for a person who may ask, counts how many are customers of the vault
through the door's narrowest answer (customers.service.count_known: blind indexes, counts).

It reads and changes nothing; the one write is its audit event, which holds counts only: no
value, and no path either (a file name is often a customer's name: 张三身份证.xlsx).
Counts are of distinct values per file: a ledger of 200 customers lists 200 phones however
often each recurs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.customers import service as customers
from baomi.customers.vault import Vault
from baomi.detect import KINDS, find_sensitive
from baomi.detect.extract import MAX_BYTES, SUFFIXES, Unreadable, text_of
from baomi.errors import ValidationFailed
from baomi.ledgers.schemas import FileFindings, ScanReport, empty_counts
from baomi.security.actor import Actor, AnyActor

# The blind index each kind is looked up in; a bank card has none (not searchable).
_INDEX_OF = {"phone": "phone", "email": "email", "id_number": "id_number", "uscc": "id_number"}


def scan(
    conn: Connection, *, actor: AnyActor, ctx: RequestContext, vault: Vault, root: Path
) -> ScanReport:
    """Scan `root` (a folder or one file); match against the vault when `actor` is a person."""
    if not root.exists():
        raise ValidationFailed(
            [{"field": "path", "code": "path_not_found", "message": "no such file or folder"}]
        )
    findings: list[FileFindings] = []
    lookups: list[dict[str, set[str]]] = []
    seen = 0
    for path in _files(root):
        seen += 1
        relative = str(path.relative_to(root)) if path != root else path.name
        try:
            if path.stat().st_size > MAX_BYTES:
                raise Unreadable("too large")
            text = text_of(path.read_bytes(), path.suffix)
        except (Unreadable, OSError) as exc:
            error = str(exc) if isinstance(exc, Unreadable) else type(exc).__name__
            findings.append(
                FileFindings(path=relative, counts=empty_counts(), matched=None, error=error)
            )
            lookups.append({})
            continue
        values: dict[str, set[str]] = {kind: set() for kind in KINDS}
        for item in find_sensitive(text):
            values[item.kind].add(item.value)
        counts = {kind: len(v) for kind, v in values.items()}
        findings.append(FileFindings(path=relative, counts=counts, matched=None))
        group: dict[str, set[str]] = {}
        for kind, found in values.items():
            if kind in _INDEX_OF and found:
                group.setdefault(_INDEX_OF[kind], set()).update(found)
        lookups.append(group)
    scope = _match(conn, actor=actor, ctx=ctx, vault=vault, findings=findings, lookups=lookups)
    kept = [f for f in findings if f.holds_data or f.error]
    report = ScanReport(
        root=str(root),
        files_seen=seen,
        files=kept,
        totals={kind: sum(f.counts[kind] for f in findings) for kind in KINDS},
        matched=sum(f.matched or 0 for f in findings) if scope else None,
        scope=scope,
    )
    append(
        conn,
        actor_event(
            ctx=ctx,
            actor=actor,
            action=Action.LEDGER_SCAN,
            reason="ok",
            details={
                "files_seen": seen,
                "files_with_data": sum(f.holds_data for f in findings),
                "unreadable": sum(f.error is not None for f in findings),
                "totals": report.totals,
                "matched": report.matched,
                "scope": scope,
            },
        ),
    )
    return report


def _match(
    conn: Connection,
    *,
    actor: AnyActor,
    ctx: RequestContext,
    vault: Vault,
    findings: list[FileFindings],
    lookups: list[dict[str, set[str]]],
) -> str | None:
    """Fill in each file's `matched` through the door; None when no person asks (the console)."""
    if not isinstance(actor, Actor):
        return None
    known = customers.count_known(conn, actor=actor, ctx=ctx, vault=vault, groups=lookups)
    for finding, matched in zip(findings, known.matched, strict=True):
        if finding.error is None:
            finding.matched = matched
    return known.scope


def _files(root: Path) -> Iterator[Path]:
    """The files under `root` that a ledger may be, in a stable order; links are not followed
    into other folders (a share may link to the whole disk)."""
    if root.is_file():
        if root.suffix.lower() in SUFFIXES:
            yield root
        return
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.suffix.lower() in SUFFIXES and path.is_file():
                yield path
