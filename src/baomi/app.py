"""create_app(): middleware, routers and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from baomi.access.api import router as access_router
from baomi.api import openapi, problem
from baomi.api.docs import router as docs_router
from baomi.api.envelope import Envelope
from baomi.api.include import include
from baomi.api.intake import Intake, Limits
from baomi.audit.api import router as audit_router
from baomi.audit.runner import BackgroundSealer, seal_waiting
from baomi.audit.settings import AuditSettings
from baomi.auth.api import router as auth_router
from baomi.auth.sessions import Lifetimes
from baomi.config import Settings
from baomi.consent.api import router as consent_router
from baomi.customers.api import reference_router
from baomi.customers.api import router as customers_router
from baomi.customers.vault import Vault
from baomi.db import checkpoint_wal
from baomi.grants.api import router as grants_router
from baomi.jobs.catalog import default_registry
from baomi.jobs.runner import BackgroundJobs, JobRunner
from baomi.keystore.instances import Heartbeat
from baomi.notifications.api import router as notifications_router
from baomi.security import level_file
from baomi.subject_requests.api import router as subject_requests_router
from baomi.users.api import router as users_router
from baomi.web.mount import install as install_web_ui

STATIC_DIR = Path(__file__).parent / "static"


def _vendor_dir() -> Path:
    """Third-party front-end assets: packaged as baomi/_vendor, or the repository's vendor/."""
    packaged = Path(__file__).parent / "_vendor"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "vendor"


def create_app(
    *,
    settings: Settings,
    engine: Engine,
    vault: Vault,
    seal_in_background: bool = False,
    run_jobs_in_background: bool = False,
    announce_instance: bool = False,
) -> FastAPI:
    """Build the web application around an engine and a vault (tests pass their own).

    `seal_in_background` starts the audit sealer thread (C1.3) for the life of the server;
    only one instance at a time actually seals (the sealer takes a lock).
    `run_jobs_in_background` starts the scheduled jobs' runner (reminders, expiry, mail); each
    job run is leased in the database, so several instances share the work without doubling it.
    `announce_instance` records the serving process and the master-key versions it holds while it
    runs (keystore/instances.py), which `baomi keys rotate` checks before moving to a version.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sealer = None
        audit_settings = AuditSettings(home=settings.home)
        if seal_in_background:
            # C1.3: events a killed process left unsealed are sealed before serving.
            seal_waiting(engine, audit_settings, moment="start")
            sealer = BackgroundSealer(engine, audit_settings)
            sealer.start()
        heartbeat = Heartbeat(engine, vault.provider) if announce_instance else None
        if heartbeat is not None:
            heartbeat.start()
        jobs = None
        if run_jobs_in_background:
            runner = JobRunner(
                engine, default_registry(settings, vault), lease_seconds=settings.job_lease_seconds
            )
            jobs = BackgroundJobs(runner, poll_seconds=settings.job_poll_seconds)
            jobs.start()
        try:
            yield
        finally:
            if jobs is not None:
                jobs.stop()
                jobs.join(timeout=30)
            if sealer is not None:
                sealer.stop()
                sealer.join(timeout=10)
                # A graceful stop (SIGTERM, SIGINT) leaves nothing unsealed behind it.
                seal_waiting(engine, audit_settings, moment="stop")
            if heartbeat is not None:
                heartbeat.stop()
            # ...and, on SQLite, a database file that holds everything without its WAL.
            checkpoint_wal(engine)

    app = FastAPI(
        lifespan=lifespan,
        title="baomi (保密)",
        summary="Confidential customer-data vault for sales teams",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # C2.2: the per-level rules (BAOMI_LEVELS, BAOMI_HOME/levels.toml), checked at start.
    level_file.check_in_force(settings, vault.levels)
    app.state.engine = engine
    app.state.vault = vault
    problem.install(app)
    # The document declares every error the routes share (problem+json) and the input rules.
    openapi.install(app)

    # Issue 17.1: a request body is read only for a live session, within its route's size and
    # time limits (inside the envelope, so that its refusals carry the request id too).
    app.add_middleware(
        Intake,
        engine=engine,
        limits=Limits.from_settings(settings),
        lifetimes=Lifetimes.from_settings(settings),
    )
    # Request id, security headers and no-store on every response (a plain ASGI middleware).
    app.add_middleware(Envelope)

    # Starlette tries routes in order; the customer routes carry most of the traffic.
    routers = (
        customers_router,
        auth_router,
        grants_router,
        users_router,
        audit_router,
        access_router,
        notifications_router,
        reference_router,
        consent_router,
        subject_requests_router,
    )
    for router in (*routers, docs_router):
        include(app, router)  # route by route: FastAPI's wrapper costs every request (issue 9)
    # The web UI's pages, error pages and /static/web (before /static, which would shadow it).
    install_web_ui(app)
    # The more specific mount first: /static/vendor/… is served from the vendored assets.
    app.mount("/static/vendor", StaticFiles(directory=_vendor_dir()), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
