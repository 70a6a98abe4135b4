"""The dashboard: the figures of the last days from the daily rollups, as charts. For every role,
figures on fewer than k devices are hidden, and so is what would let one work them out by
difference (service.figures says how)."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from policy.vocabulary import OUTCOMES
from service import charts, figures
from service.keys import ENGINE, SERVICES
from service.views.common import ANY_ROLE, require, settings, today

SPANS = (7, 30, 90, 365)
"""The periods a person can choose, in days (the page's choices are drawn from these)."""
DEFAULT_SPAN = 30


@aiohttp_jinja2.template("dashboard.html")
async def dashboard(request: web.Request) -> dict[str, Any]:
    await require(request, *ANY_ROLE)
    services = request.app[SERVICES]
    current = await settings(request)
    try:
        span = int(request.query.get("days", DEFAULT_SPAN))
    except ValueError:
        span = DEFAULT_SPAN
    span = span if span in SPANS else DEFAULT_SPAN
    day = today(request)
    start, end = figures.range_for(day, span)
    coarse = current.privacy_level == "none"
    async with request.app[ENGINE].connect() as conn:
        fig = await figures.figures(
            conn, start=start, end=end, k=current.k_anonymity, coarse=coarse
        )
    days = fig.days
    outcome_chart = charts.stacked_bars(
        days,
        [(o, [fig.value("outcome", o, d) for d in days]) for o in OUTCOMES],
        colours=charts.OUTCOME_COLOURS,
    )
    platform_rows = figures.as_table(fig, "platform")
    top = [r["value"] for r in platform_rows[:7]]
    platform_chart = charts.stacked_bars(
        days, [(p, [fig.value("platform", p, d) for d in days]) for p in top]
    )
    clause_rows = figures.clause_table(fig)[:12]
    clause_chart = charts.hbars(
        [
            (label, r[key])
            for r in clause_rows
            for label, key in (
                (f"{r['value']} applies", "applies"),
                (f"{r['value']} may apply", "may_apply"),
            )
        ]
    )
    heatmap = charts.heatmap(fig.by_hour())
    went_back = fig.summed("response", "went_back")
    continued = fig.summed("response", "continued")
    device_chart = charts.stacked_bars(
        days, [("distinct devices", fig.devices_per_day())], height=160
    )
    total = fig.summed("all", "")
    return {
        "page": "dashboard",
        "span": span,
        "spans": SPANS,
        "start": start,
        "end": end,
        "k": current.k_anonymity,
        "coarse": coarse,
        "coarse_base": figures.COARSE_BASE,
        "hidden": fig.hidden_count,
        "total": total,
        "outcome_chart": outcome_chart,
        "platform_chart": platform_chart,
        "platform_rows": platform_rows,
        "clause_rows": clause_rows,
        "clause_chart": clause_chart,
        "heatmap": heatmap,
        "went_back": went_back,
        "continued": continued,
        "device_chart": device_chart,
        "privacy_level": current.privacy_level,
        "reminders": figures.reminders(services.school, current, day),
    }
