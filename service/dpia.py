"""What the transparency page and the DPIA draft say, generated from the settings in force."""

from datetime import date
from typing import Any

from policy.school import SchoolConfig

LEVEL_TEXT = {
    "daily": "Devices appear only as a pseudonym that changes every day; the day's key is "
    "destroyed at midnight, so no one, including the school, can link an event to a device "
    "afterwards. Counts of distinct devices per day still work.",
    "stable": "Devices appear as a long-lived pseudonym. No one can list which device a "
    "pseudonym belongs to; during an investigation opened by the headteacher and countersigned "
    "by a governor (clause 4.3), the headteacher may test one named device at a time, and each "
    "test is recorded in the audit log.",
    "none": "Events carry no device field at all.",
}

EVENT_HOLDS = [
    "a random event id, and the time rounded down to the configured granularity",
    "which sensor recorded it (the school proxy or a school laptop's browser extension)",
    "the platform (e.g. facebook) and its category, and the kind of action (opening, posting, "
    "messaging, endorsing, connecting)",
    "the outcome (allowed, logged, warned, blocked) and the clause numbers of the policy applied",
    "whether it was working time, the device group (e.g. staff laptops), whether the account "
    "was the school's own, a personal one or unknown",
    "the policy version in force, whether a warning was heeded or continued, and the reason "
    "category chosen from a fixed list when continuing",
]
EVENT_NEVER = [
    "the address of the page (no path, no query string), or any page content",
    "the device's IP address or name, or any name of a person",
    "a personal account id or user name on the platform",
    "anything typed (continuing asks for a reason from a fixed list, never free text)",
]


def privacy_context(school: SchoolConfig, settings: Any) -> dict[str, Any]:
    platforms = sorted({p.name for p in school.platforms.platforms})
    return {
        "school_name": school.policy.school.name,
        "headteacher": school.policy.school.headteacher,
        "policy_title": school.policy.document.title,
        "policy_version": school.policy.document.version,
        "groups": [g.label for g in school.device_groups.device_groups],
        "platforms": platforms,
        "time_zone": school.schedule.time_zone,
        "working_hours": {
            day: ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges)
            for day, ranges in school.schedule.working_hours.items()
        },
        "level": settings.privacy_level,
        "level_text": LEVEL_TEXT[settings.privacy_level],
        "retention_days": settings.retention_days,
        "k": settings.k_anonymity,
        "granularity": settings.event_time_granularity_minutes,
        "holds": EVENT_HOLDS,
        "never": EVENT_NEVER,
    }


def dpia_markdown(school: SchoolConfig, settings: Any, today: date) -> str:
    c = privacy_context(school, settings)
    hours = "; ".join(f"{d}: {h}" for d, h in c["working_hours"].items())
    lines = [
        f"# Data protection impact assessment (draft): ClauseWarden at {c['school_name']}",
        "",
        f"Generated on {today.isoformat()} from the settings in force, for the school's data "
        "protection officer to review and complete.",
        "",
        "## 1. What the processing is and why",
        "",
        f"ClauseWarden applies the school's {c['policy_title']} (version {c['policy_version']}) "
        "on the school network and on school devices. When a member of staff uses social media "
        "it shows the clause that applies and records an anonymised event, so that the "
        "monitoring described in clause 9 of the policy can take place without anyone reading "
        "staff browsing histories.",
        "",
        "Lawful basis to consider: legitimate interests / public task (safeguarding and the DfE "
        "filtering and monitoring standards); the policy itself informs staff (clause 9).",
        "",
        "## 2. Scope",
        "",
        f"- Devices: {', '.join(c['groups'])}.",
        f"- Platforms: {', '.join(c['platforms'])}.",
        f"- Working time ({c['time_zone']}): {hours}.",
        "",
        "## 3. Data held in an event",
        "",
        *[f"- {item}" for item in c["holds"]],
        "",
        "Never held:",
        "",
        *[f"- {item}" for item in c["never"]],
        "",
        "## 4. Pseudonyms and re-identification",
        "",
        f"Privacy level: **{c['level']}**. {c['level_text']}",
        "",
        f"Reports shown to the viewer and admin roles hide any figure resting on fewer than "
        f"{c['k']} distinct devices.",
        "",
        "## 5. Retention",
        "",
        f"Events are deleted after {c['retention_days']} days (clause 9.3); daily totals without "
        "device pseudonyms are kept for trends. A replaced policy version is kept for 7 years. "
        "Unapproved requests to register a school account are deleted after 7 days.",
        "",
        "## 6. Access",
        "",
        "- viewer: dashboard and event log (small figures suppressed).",
        "- admin: as viewer, plus sensors, users, settings, school accounts (not approval).",
        f"- headteacher ({c['headteacher']}): approves school accounts (clause 10.1); opens "
        "investigations (clause 4.3).",
        "- governor: sees reports and countersigns investigations.",
        "",
        "Every admin action is written to a hash-chained audit log.",
        "",
        "## 7. Risks and measures (to complete)",
        "",
        "| risk | likelihood | severity | measure |",
        "| --- | --- | --- | --- |",
        "| a small group re-identified through counts | low | medium | k-anonymity suppression |",
        "| a pseudonym linked to a device | low | high | daily salts destroyed; four-eyes tests |",
        "| function creep | medium | medium | fixed event fields; public /privacy page |",
        "",
        "## 8. Sign-off",
        "",
        "- DPO advice: ____________________",
        "- Headteacher: ____________________   Date: __________",
        "- Governor: ____________________   Date: __________",
        "",
    ]
    return "\n".join(lines)
