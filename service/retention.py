"""Retention (clause 9.3): events older than the retention period are deleted; the daily
rollups stay for trend charts (with their distinct-device counts; only the per-device rows
that kept those counts exact go); unapproved
account requests go after 7 days; a replaced policy version is kept 7 years; the reports staff
sent the headteacher go after their own period (service.staff_report_store)."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from service import audit, staff_report_store, store
from service.bundle import BundleBuilder
from service.db import daily_devices, events, policy_versions, school_accounts

REQUEST_DAYS = 7
POLICY_YEARS = 7


async def run(
    engine: AsyncEngine, bundles: BundleBuilder, tz: ZoneInfo, now: datetime
) -> dict[str, Any]:
    async with engine.connect() as conn:
        settings = await bundles.settings(conn)
    days = settings.retention_days
    cutoff_time = store.iso(now - timedelta(days=days))
    cutoff_day = (now.astimezone(tz).date() - timedelta(days=days)).isoformat()
    async with engine.begin() as conn:
        await conn.execute(delete(daily_devices).where(daily_devices.c.day < cutoff_day))
        deleted = (await conn.execute(delete(events).where(events.c.time < cutoff_time))).rowcount
        stale = store.iso(now - timedelta(days=REQUEST_DAYS))
        requests = (
            await conn.execute(
                delete(school_accounts).where(
                    school_accounts.c.status == "pending",
                    school_accounts.c.source == "request",
                    school_accounts.c.created_at < stale,
                )
            )
        ).rowcount
        old_policy = store.iso(now - timedelta(days=365 * POLICY_YEARS + 2))
        await conn.execute(
            delete(policy_versions).where(
                policy_versions.c.replaced_at.is_not(None),
                policy_versions.c.replaced_at < old_policy,
            )
        )
        reports = await staff_report_store.expire(conn, now)  # their own period (default a year)
        summary = {
            "events_deleted": deleted,
            "requests_deleted": requests,
            "staff_reports_deleted": reports,
            "before": cutoff_time,
            "retention_days": days,
        }
        if deleted or requests or reports:
            await audit.record(
                conn, at=store.iso(now), actor="system", action="retention.run", detail=summary
            )
    return summary
