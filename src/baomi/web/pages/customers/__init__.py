"""The customer pages (issue 5): list and search, 查重 with a one-click access request, the
record with reveal and timeline, the create and edit forms, the level change.

`ROUTERS` in the order they must be mounted: the fixed paths (/customers/new, /customers/check)
ahead of /customers/{customer_id}.
"""

from __future__ import annotations

from baomi.web.pages.customers import check, consents, detail, editing, level, listing, reveal

ROUTERS = tuple(part.router for part in (listing, check, editing, reveal, level, consents, detail))
