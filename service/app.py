"""The service's application factory.

Run it with `clausewarden serve` (see clausewarden/commands/serve.py), or in tests with
`aiohttp_client(create_app(Config(data_dir=tmp_path)))`.
"""

import asyncio
import base64
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import aiohttp_session
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from jinja2 import PackageLoader
from sqlalchemy.ext.asyncio import AsyncEngine

from policy.configdir import load_config_dir
from service import account_store, audit, retention, staff_report_store
from service.bundle import BundleBuilder, forget_old_secrets, seed
from service.config import Config, read_or_create_secret, secure_data_dir
from service.db import make_engine, migrate
from service.error_pages import error_page_middleware
from service.ingest import MAX_BYTES, Rollup
from service.keys import CONFIG, ENGINE, SERVICES, Services
from service.mailer import MAILER, Mailer
from service.middleware import (
    csrf_middleware,
    csrf_token,
    security_headers_middleware,
    store_error_middleware,
    timing_middleware,
)
from service.routes import setup_routes
from service.security import transport_security
from service.store_health import PREPARE, STORE_HEALTH, Prepare, StoreHealth, write_failure
from service.views.common import current_user

log = logging.getLogger("clausewarden.service")


def create_app(config: Config) -> web.Application:
    school = load_config_dir(config.config_dir)
    tz = ZoneInfo(school.schedule.time_zone)
    secure_data_dir(config)  # 0700, the database 0600
    for name in forget_old_secrets(config.data_dir):  # no salt or key rests in the service
        log.warning("deleted %s from the data folder: sensors keep their own salts now", name)
    key = read_or_create_secret(
        config.data_dir / "session.key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32))
    )
    storage = EncryptedCookieStorage(
        base64.urlsafe_b64decode(key.strip()),  # the storage base64-encodes bytes itself
        cookie_name="clausewarden_session",
        httponly=True,
        samesite="Strict",
        secure=config.secure_cookies,
        max_age=8 * 3600,
    )
    app = web.Application(
        client_max_size=MAX_BYTES,
        middlewares=[
            timing_middleware,
            transport_security(config.trusted_proxies, config.secure_cookies),
            security_headers_middleware,
            aiohttp_session.session_middleware(storage),
            error_page_middleware,  # a refusal a browser reads is a page (title, language)
            csrf_middleware,
            store_error_middleware,
        ],
    )
    app[CONFIG] = config
    app[STORE_HEALTH] = StoreHealth(retry_seconds=config.store_retry_seconds)
    app[PREPARE] = _preparer(app)
    app[SERVICES] = Services(
        school=school,
        tz=tz,
        bundles=BundleBuilder(school),
        rollup=Rollup(tz),
    )
    env = aiohttp_jinja2.setup(
        app,
        loader=PackageLoader("service"),
        autoescape=True,
        context_processors=[_template_context],
    )
    env.globals["school"] = school.policy.school
    app[MAILER] = Mailer(config.smtp)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_mail)
    if config.background_tasks:
        app.cleanup_ctx.append(_background)
    setup_routes(app)
    return app


async def _template_context(request: web.Request) -> dict[str, object]:
    user = await current_user(request)
    pending = 0
    reads_reports = False
    if user is not None and user.role == "headteacher":  # the notice of accounts to approve
        async with request.app[ENGINE].connect() as conn:
            pending = await account_store.count_pending_accounts(conn)
        reads_reports = True
    elif user is not None:  # a line manager or senior team member the headteacher chose
        async with request.app[ENGINE].connect() as conn:
            reads_reports = bool(await staff_report_store.readable_by(conn, user))
    return {
        "user": user,
        "csrf_token": await csrf_token(request),
        "pending_accounts": pending,
        "reads_reports": reads_reports,
    }


def _preparer(app: web.Application) -> Prepare:
    async def prepare(engine: AsyncEngine) -> None:
        """Migrations, the audit key, the seed: at start, and again on reconnecting."""
        config = app[CONFIG]
        await migrate(engine)
        secure_data_dir(config)  # the database file may have been made just now
        await audit.attach(engine, config.data_dir)
        async with engine.begin() as conn:
            for problem in await seed(conn, app[SERVICES].school, config.clock()):
                log.warning("%s", problem)

    return prepare


async def _database(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    engine = make_engine(config.url)
    health = app[STORE_HEALTH]
    try:
        try:
            await app[PREPARE](engine)
            health.ready = True
        except Exception as exc:
            reason = write_failure(exc)
            if reason is None or not engine.url.get_backend_name() == "sqlite":
                raise  # a database that cannot be reached at start is said by `serve`, once
            # A SQLite file the service cannot write (read-only, a full disk): start anyway,
            # answer 503 to what needs a write, and reconnect when it can be written.
            health.failed(reason, config.clock())
            health.retry_in_background(engine, app[PREPARE], config.clock)
        app[ENGINE] = engine
        yield
    finally:
        await health.stop()
        await engine.dispose()


async def _mail(app: web.Application) -> AsyncIterator[None]:
    """At shutdown, the emails under way are sent (or fail) before the database closes."""
    yield
    await app[MAILER].drain()


async def _background(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_housekeeping(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _housekeeping(app: web.Application) -> None:
    """Hourly: retention and stale requests (checked every minute)."""
    last_retention = 0.0
    while True:
        try:
            services = app[SERVICES]
            now = app[CONFIG].clock()
            if time.monotonic() - last_retention > 3600:
                async with services.write_lock:
                    await retention.run(app[ENGINE], services.bundles, services.tz, now)
                last_retention = time.monotonic()
        except Exception:  # noqa: BLE001 - keep housekeeping alive; the error is logged
            log.exception("housekeeping failed; will retry")
        await asyncio.sleep(60)
