"""The whole schema: importing this registers every table on `baomi.db.metadata`."""

from __future__ import annotations

from baomi import db
from baomi.access import models as access_models
from baomi.audit import models as audit_models
from baomi.auth import models as auth_models
from baomi.consent import models as consent_models
from baomi.customers import models as customer_models
from baomi.grants import models as grant_models
from baomi.imports import models as import_models
from baomi.jobs import models as job_models
from baomi.keystore import models as keystore_models
from baomi.notifications import models as notification_models
from baomi.subject_requests import models as subject_request_models
from baomi.users import models as user_models

metadata = db.metadata

__all__ = [
    "access_models",
    "audit_models",
    "auth_models",
    "consent_models",
    "customer_models",
    "grant_models",
    "import_models",
    "job_models",
    "keystore_models",
    "metadata",
    "notification_models",
    "subject_request_models",
    "user_models",
]
