"""The policy bundle a sensor downloads: config + approved school accounts + settings + privacy.

The privacy object carries the level only. The service holds no salt or key that maps a device
pseudonym to a device, in its database or its data folder: each sensor keeps its own day's salt
(and at level `stable` its own long-lived key). Files an older version kept in the data folder
(`daily-salt.json`, `stable-key`) are deleted at start by `forget_old_secrets`.
"""

import dataclasses
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.bundle import compile_bundle
from policy.config import AccountsFile, ScheduleFile, SchoolAccount, Settings, SettingsFile
from policy.privacy import privacy_part, with_privacy
from policy.school import SchoolConfig, resolved_kind
from service import account_store, settings_store, store
from service.db import policy_versions

OLD_SECRET_FILES = ("daily-salt.json", "daily-salt.json.tmp", "stable-key", "stable-key.tmp")
"""What an older version kept in the data folder: the day's salt and the long-lived key."""


def forget_old_secrets(data_dir: Path) -> list[str]:
    """Delete the salt and key files an older version kept in `data_dir`; the names deleted."""
    gone = []
    for name in OLD_SECRET_FILES:
        try:
            (data_dir / name).unlink()
        except FileNotFoundError:
            continue
        gone.append(name)
    return gone


def effective_settings(base: Settings, overrides: dict[str, Any]) -> Settings:
    wanted = {k: v for k, v in overrides.items() if k in settings_store.EDITABLE_SETTINGS}
    return Settings.model_validate({**base.model_dump(), **wanted})


def effective_schedule(base: ScheduleFile, overrides: dict[str, Any]) -> ScheduleFile:
    """Term dates and closures edited in the admin pages replace those of schedule.yaml."""
    wanted = {k: overrides[k] for k in ("terms", "closures") if k in overrides}
    if not wanted:
        return base
    return ScheduleFile.model_validate({**base.model_dump(), **wanted})


def _account_model(row: Any) -> SchoolAccount:
    return SchoolAccount(
        id=row.id,
        platform=row.platform,
        account_id=row.account_id,
        label=row.label,
        approved_by=row.approved_by or "headteacher",
        approved_on=date.fromisoformat(row.approved_on) if row.approved_on else date.min,
        expires_on=date.fromisoformat(row.expires_on) if row.expires_on else None,
        actions=row.actions.split(","),
        kind=row.kind,
    )


class BundleBuilder:
    """Compiles the bundle from the config folder and the store, cached until something changes."""

    MAX_AGE = 30.0  # seconds: changes made by another process (the CLI) show within this

    def __init__(self, school: SchoolConfig) -> None:
        self.school = school
        self._cached: dict[str, Any] | None = None
        self._settings: Settings = school.settings.settings
        self._schedule: ScheduleFile = school.schedule
        self._at = 0.0

    def invalidate(self) -> None:
        self._cached = None

    async def settings(self, conn: AsyncConnection) -> Settings:
        await self._refresh(conn)
        return self._settings

    def fresh_settings(self) -> Settings | None:
        """The settings without touching the database, if the cache is fresh (the ingest path)."""
        if self._cached is not None and time.monotonic() - self._at < self.MAX_AGE:
            return self._settings
        return None

    async def schedule(self, conn: AsyncConnection) -> ScheduleFile:
        """The schedule in force: config/schedule.yaml with term dates edited in the pages."""
        await self._refresh(conn)
        return self._schedule

    async def _refresh(self, conn: AsyncConnection) -> dict[str, Any]:
        if self._cached is not None and time.monotonic() - self._at < self.MAX_AGE:
            return self._cached
        rows = await account_store.list_accounts(conn, status="approved")
        overrides = await settings_store.get_settings(conn)
        merged = effective_settings(self.school.settings.settings, overrides)
        config = dataclasses.replace(
            self.school,
            accounts=AccountsFile(accounts=[_account_model(r) for r in rows]),
            settings=SettingsFile(settings=merged),
            schedule=effective_schedule(self.school.schedule, overrides),
        )
        self._cached = compile_bundle(config)
        self._settings = merged
        self._schedule = config.schedule
        self._at = time.monotonic()
        return self._cached

    async def bundle(self, conn: AsyncConnection, now: datetime) -> tuple[dict[str, Any], str]:
        """(bundle with its privacy object, ETag): the level only, never a salt or key."""
        body = await self._refresh(conn)
        level = self._settings.privacy_level
        return with_privacy(body, privacy_part(level)), f'"{body["version"]}-{level}"'


def accounts_file_entries(school: SchoolConfig) -> list[dict[str, Any]]:
    """accounts.yaml's entries as the store keeps them (dates as text, the kind resolved)."""
    platforms = {p.id: p for p in school.platforms.platforms}
    return [
        {
            "id": a.id,
            "platform": a.platform,
            "account_id": a.account_id,
            "label": a.label,
            "actions": list(a.actions),
            "approved_by": a.approved_by,
            "approved_on": a.approved_on.isoformat(),
            "expires_on": a.expires_on.isoformat() if a.expires_on else None,
            "kind": resolved_kind(platforms[a.platform], a.kind),
        }
        for a in school.accounts.accounts
    ]


async def seed(conn: AsyncConnection, school: SchoolConfig, now: datetime) -> list[str]:
    """Each start: accounts.yaml applied to the store (new and changed entries waiting for the
    headteacher's approval, removed ones expired, each audited as from accounts.yaml); record the
    policy version. Returns what of accounts.yaml could not be applied (logged by the caller,
    shown on the accounts page)."""
    today = now.astimezone(ZoneInfo(school.schedule.time_zone)).date()
    problems = await account_store.sync_accounts_file(
        conn, accounts_file_entries(school), today=today, now=now
    )
    version = school.policy.document.version
    known = (
        await conn.execute(
            select(policy_versions.c.version).where(policy_versions.c.version == version)
        )
    ).first()
    if not known:
        await conn.execute(
            update(policy_versions)
            .where(policy_versions.c.replaced_at.is_(None))
            .values(replaced_at=store.iso(now))
        )
        document = {
            "document": school.policy.document.model_dump(mode="json"),
            "clauses": [c.model_dump(mode="json") for c in school.policy.clauses],
        }
        await conn.execute(
            policy_versions.insert().values(
                version=version, first_seen=store.iso(now), document=orjson.dumps(document).decode()
            )
        )
    return problems
