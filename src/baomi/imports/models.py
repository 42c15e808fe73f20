"""Import tables: each import's run (to resume it), what 查重 met, and saved column mappings.

No customer value is kept here: the counts of a run, and for a row that met a customer on file,
what 查重 itself may say (that customer's id, handler and department: customers/duplicates.py).
The file is named and fingerprinted (SHA-256), so that a resumed run reads the same file.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table

from baomi.db import UTCDateTime, metadata

imports = Table(
    "imports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("actor_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("file_name", String(255), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    # C4.1.1: asked once per import and recorded on every customer it files.
    Column("source", String(200), nullable=False),
    Column("lawful_basis", String(32), nullable=False),
    Column("level", String(16), nullable=False),
    # How the file is read: column mappings given by the person, whether to move identifiers
    # found in free text into their fields (imports/plan.py Options).
    Column("options", JSON, nullable=False),
    # running: stopped or still going (resume it); finished.
    Column("status", String(16), nullable=False, index=True),
    # Data rows of the file (in reading order) whose batch has committed: a resume starts here.
    Column("rows_done", Integer, nullable=False),
    # Counts of the committed batches: imported, duplicates_in_company, undecided.
    Column("counts", JSON, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
)

# C4.1.3: a row of the file whose customer was on file already, handled by someone (查重's answer).
import_duplicates = Table(
    "import_duplicates",
    metadata,
    Column("import_id", String(36), ForeignKey("imports.id"), primary_key=True),
    # The row's position among the file's data rows (reading order).
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("sheet", String(100), nullable=False),
    Column("row", Integer, nullable=False),
    Column("field", String(32), nullable=False),
    Column("customer_id", String(36), nullable=True),
    Column("handler_username", String(64), nullable=True),
    Column("department", String(100), nullable=True),
    # "" on file; "undecided": a candidate failed its integrity check (issue 17).
    Column("outcome", String(16), nullable=False),
)

# A person's column mapping for a header row they have mapped before (the web UI's import).
import_mappings = Table(
    "import_mappings",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    # SHA-256 of the header row's cells as read (imports/headers.py signature).
    Column("signature", String(64), primary_key=True),
    Column("mapping", JSON, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
