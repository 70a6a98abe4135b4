"""What the transparency page and the DPIA draft say, generated from the settings in force."""

import dataclasses
from datetime import date
from typing import Any

from policy.bundle import compile_bundle
from policy.config import SettingsFile
from policy.coverage import HEADING_ONLY, ClauseEntry, clause_map
from policy.school import SchoolConfig

LEVEL_TEXT = {
    "daily": "Devices appear only as a pseudonym that changes every day. Each sensor (the school "
    "proxy, each school laptop's browser extension) makes it with a secret salt of its own that "
    "never leaves it: not in the policy sent to sensors, not in the service's database or data "
    "folder. At the school's local midnight the sensor destroys the day's salt, so once the day "
    "is over no one, including the school and whoever runs the proxy, can link that day's "
    "events to a device. Counts of distinct devices per day still work.",
    "stable": "Devices appear as a long-lived pseudonym made with a key that stays on the proxy "
    "(and on each laptop's extension) and is never sent to the service. No one can list which "
    "device a pseudonym belongs to. During an investigation opened by the headteacher and "
    "countersigned by a governor whose account someone other than the headteacher approved "
    "(clause 4.3), the headteacher may test one named device at a time: the countersigned "
    "request goes to the proxy, which works out that one pseudonym and sends it back, and the "
    "service answers with a count of events, never a list. Each test is recorded in the audit "
    "log.",
    "none": "Events carry no device field at all.",
}

OUTSIDE_WORKING_TIME = {
    "warn": "Outside working time personal use is warned too: clause 7 covers the school's "
    "computers and networks at any time. Every event records whether it was working time.",
    "log": "Outside working time personal use is recorded but not warned (the headteacher's "
    "choice); messages are still warned under clause 8.1.",
}

THREAT_MODEL = [
    "Who must not be able to link a stored event to a device or a person: anyone holding a "
    "sensor's token, or the enrolment secret every school laptop holds; any single "
    "user of these pages, whatever their role, the headteacher alone included; anyone with a "
    "copy of the service's database and data folder (a backup, a stolen disk); a web page that "
    "a member of staff visits.",
    "Out of scope, and said so: whoever controls a proxy host while it runs sees live traffic, "
    "as any proxy does. Once the day is over, not even they can link that day's stored events "
    "to a device, because the day's salt is destroyed.",
]

SAFEGUARDS = [
    "Reports, the event log, exports and the API show only figures resting on at least k "
    "distinct devices, with no device column; a figure that would let a hidden one be worked "
    "out by difference is hidden too.",
    "Changing k, the retention period or the privacy level takes effect only with the "
    "headteacher's approval.",
    "A new headteacher or governor account works only once a different headteacher or governor "
    "approves it; the first headteacher is made on the server and announced to all who follow.",
    "The audit log is a chain keyed with a secret kept outside the database; governors see its "
    "head (a count and a hash) to write down, and any rewrite or cut after that point is "
    "detected.",
    "A report a member of staff sends keeps the day it came and nothing finer: "
    "not the time, not the school proxy or laptop it was sent through, not a platform, and its "
    "entry in the audit log carries only the day. So no one with a copy of the database can "
    "match a report, and the name in it, to a device's events.",
    "A report goes to the recipient its writer chooses: the headteacher (clauses 8.1, 8.4, 10.2 "
    "and 11.3.7 name the headteacher alone), or a line manager or the senior team the school "
    "names (clauses 5.3 and 12.3). Only that recipient reads it: the headteacher's reports the "
    "headteacher role, any other recipient's the one account the headteacher chose for it; "
    "every read and every choice of reader is in the audit log, and the email goes to that "
    "recipient's own address only, saying a report waits, without its text or the name.",
    "Backups are signed with a key kept apart from them (in the configuration folder, and a "
    "copy the IT admin keeps elsewhere): a backup changed after it was made, for example a user "
    "given another role or a key replaced, is refused, not restored. Every change to a user or "
    "a role is written to the audit log, and checking the log also checks the list of users "
    "against it. The proxy's certificate authority key is left out of backups unless the IT "
    "admin asks for it.",
    "A school account written in the configuration file (accounts.yaml) counts only once the "
    "headteacher has approved it in the admin pages (clause 10.1), whoever wrote the file; an "
    "entry changed later waits for the headteacher again.",
    "Each school laptop's extension has its own credential, a key made on the laptop whose "
    "private part never leaves it; the policy on the laptops holds only an enrolment secret, "
    "which can do nothing but enrol, and laptops beyond the number the IT admin states wait for "
    "approval. One laptop counts as at most one device in any figure on any day, whatever its "
    "events claim: its events of a day carry a tag made under a counting key the service holds "
    "in memory for that day only, never stored and never in a backup. A laptop's credential "
    "never receives the address of a device under investigation unless the headteacher names "
    "that laptop, and each laptop has its own limits.",
    "The proxy serves only the school's own devices (the networks of its device groups); a "
    "machine on the network cannot use it to reach the proxy's own server or its services "
    "(this server's addresses, loopback, link-local and cloud metadata addresses), whatever "
    "spelling of an address or name it uses: the address actually connected to is checked.",
    "A post, message, friend request or reference is recognised in the form the site will "
    "read it, however its address or body is spelt or encoded; one whose body the proxy cannot "
    "read whole is held as the act it may be. Reports to the headteacher and school-account "
    "requests are limited per device, and a device's first report of the day always goes "
    "through.",
    "What a device recorded today is shown only on the proxy's own host, which no website's "
    "script can read; the answers to a warning (continue, go back) are taken only from a "
    "top-level page the member of staff opened, with that warning's one-time ticket; the "
    "extension's warning page cannot be framed by a web page.",
]

NOT_DECRYPTED = (
    "Devices in these groups do not trust the school's certificate, so their secure connections "
    "are never opened: {groups}. The proxy sees only the name of the site each connects to, as "
    "any network does. When that name is a social network's own pages (not its widgets or "
    "images embedded in other sites), it records one event with the action 'seen' and no act, "
    "at most once per device, platform and 15 minutes (clauses 3.2 and 4.2, with 7). Where the "
    "guest Wi-Fi sends them to it, their connectivity check shows the policy's clauses 3.2, 4.2 "
    "and 7 once a day with a button to accept; accepting is not recorded. Elsewhere they see "
    "nothing from ClauseWarden."
)

EVENT_HOLDS = [
    "a random event id, and the time rounded down to the configured granularity",
    "which sensor recorded it (the school proxy or a school laptop's browser extension)",
    "the platform (e.g. facebook) and its category, and the kind of action (opening, posting, "
    "messaging, endorsing, connecting; or only seen, for a device whose connections are not "
    "decrypted)",
    "the outcome (allowed, logged, warned, blocked) and the clause numbers of the policy applied, "
    "kept apart from those that only may apply (a message or a friend request: whether the other "
    "person is a pupil, a parent or a carer, clauses 8.1 and 11.4.3, is not known and never "
    "recorded)",
    "whether it was working time, the device group (e.g. staff laptops), whether the account "
    "was the school's own, a personal one or unknown",
    "the policy version in force, whether a warning was heeded or continued, and the reason "
    "category chosen from a fixed list when continuing",
    "whether a post, message, recommendation or friend request was held back (not sent)",
]
EVENT_NEVER = [
    "the address of the page (no path, no query string), or any page content",
    "the device's IP address or name, or any name of a person",
    "a personal account id or user name on the platform",
    "anything typed (continuing asks for a reason from a fixed list, never free text)",
    "that a member of staff chose to tell the Headteacher instead of sending an act (clauses "
    "8.1, 8.4, 11.3.6): that answer is recorded as going back, and the report never joins the "
    "events",
]
PROMISE = (
    "These limits are the school's promise, made in this notice and its data protection impact "
    "assessment. They are not in clause 9 of the policy, which keeps the school's right to "
    "monitor more; the warning pages say so."
)
"""Whose promise the limits are: the warning pages' "Not recorded" cites this, not clause 9."""


def privacy_context(school: SchoolConfig, settings: Any) -> dict[str, Any]:
    platforms = sorted({p.name for p in school.platforms.platforms})
    return {
        "school_name": school.policy.school.name,
        "headteacher": school.policy.school.headteacher,
        "policy_title": school.policy.document.title,
        "policy_version": school.policy.document.version,
        "groups": [g.label for g in school.device_groups.device_groups],
        "not_decrypted": NOT_DECRYPTED.format(
            groups=", ".join(
                g.label for g in school.device_groups.device_groups if not g.decrypt_https
            )
        )
        if any(not g.decrypt_https for g in school.device_groups.device_groups)
        else "",
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
        "outside_working_time": OUTSIDE_WORKING_TIME[settings.personal_use_outside_working_time],
        "granularity": settings.event_time_granularity_minutes,
        "holds": EVENT_HOLDS,
        "never": EVENT_NEVER,
        "promise": PROMISE,
        "threat_model": THREAT_MODEL,
        "safeguards": SAFEGUARDS,
    }


def clause_coverage_lines(school: SchoolConfig, settings: Any) -> list[str]:
    """The clause coverage map (as /clauses shows it) as a Markdown table, with these settings."""
    config = dataclasses.replace(school, settings=SettingsFile(settings=settings))
    entries = clause_map(compile_bundle(config), school.rules.not_judged)
    return [
        "| clause | what ClauseWarden does |",
        "| --- | --- |",
        *[f"| {e.id} | {_coverage_cell(e)} |" for e in entries],
    ]


def _coverage_cell(e: ClauseEntry) -> str:
    parts = [f"rule {u.rule}: {u.matches}: {u.does}" for u in e.rules]
    parts += [r.name for r in e.routes]
    if e.reported:
        parts.append("counted in the dashboard's By clause report")
    if e.not_judged:
        parts.append(f"not judged by the software: {e.not_judged}")
    if e.heading_only and not parts:
        parts.append(HEADING_ONLY)
    if not e.covered:
        parts.append("NO ENTRY (add one in rules.yaml)")
    return "; ".join(parts).replace("|", "/")


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
        *([f"- {c['not_decrypted']}"] if c["not_decrypted"] else []),
        f"- Platforms: {', '.join(c['platforms'])}.",
        f"- Working time ({c['time_zone']}): {hours}.",
        f"- {c['outside_working_time']}",
        "",
        "## 3. Data held in an event",
        "",
        *[f"- {item}" for item in c["holds"]],
        "",
        "Never held:",
        "",
        *[f"- {item}" for item in c["never"]],
        "",
        c["promise"],
        "",
        "## 4. Pseudonyms and re-identification",
        "",
        f"Privacy level: **{c['level']}**. {c['level_text']}",
        "",
        f"Every page, export and API shows only figures resting on at least {c['k']} distinct "
        "devices.",
        "",
        "### Threat model",
        "",
        *[f"- {item}" for item in c["threat_model"]],
        "",
        "### Safeguards",
        "",
        *[f"- {item}" for item in c["safeguards"]],
        "",
        "## 5. Retention",
        "",
        f"Events are deleted after {c['retention_days']} days (clause 9.3); daily totals without "
        "device pseudonyms are kept for trends. A replaced policy version is kept for 7 years. "
        "Unapproved requests to register a school account are deleted after 7 days. Reports "
        "staff send (to the headteacher, a line manager or the senior team) are deleted after "
        "their own period (365 days unless the "
        "headteacher sets another), and keep only the day they came.",
        "",
        "## 6. Access",
        "",
        f"- viewer: dashboard and event log (figures on fewer than {c['k']} devices hidden).",
        "- admin: as viewer, plus sensors, users, school accounts (not approval), and settings "
        "(k, retention and the privacy level only with the headteacher's approval). The Sensors "
        "page shows the time of each proxy's newest event (to the events' granularity, whoever's "
        "device it came from), never a laptop's: the check that a first warning arrived.",
        f"- headteacher ({c['headteacher']}): approves school accounts (clause 10.1); opens "
        "investigations (clause 4.3); reads the reports staff send them; chooses which account "
        "reads the reports sent to each line manager or the senior team.",
        "- the reader the headteacher chose for a line manager or the senior team: reads only "
        "the reports sent to that recipient (clauses 5.3, 12.3).",
        "- governor: sees reports and countersigns investigations.",
        "",
        "Every admin action is written to an audit log chained with a key kept outside the "
        "database; governors note its head to detect later rewrites.",
        "",
        "## 7. Risks and measures (to complete)",
        "",
        "| risk | likelihood | severity | measure |",
        "| --- | --- | --- | --- |",
        "| a small group re-identified through counts | low | medium | k suppression, "
        "secondary suppression |",
        "| a pseudonym linked to a device | low | high | salts kept on sensors and destroyed "
        "daily; four-eyes device tests by two people |",
        "| one person acting alone | low | high | settings, roles and investigations need a "
        "second person |",
        "| the audit log rewritten | low | high | keyed chain; governors' anchor |",
        "| a staff report matched to a device | low | high | the day only: no time, sensor or "
        "platform kept |",
        "| a staff report read by someone it was not sent to | low | high | each recipient's "
        "reports only to its reader, chosen by the headteacher; reads audited |",
        "| a backup edited, then restored | low | high | signed with a key kept outside it; "
        "users and roles checked against the audit chain |",
        "| a school account approved by editing a file | low | medium | file entries wait for "
        "the headteacher's approval |",
        "| function creep | medium | medium | fixed event fields; public /privacy page |",
        "",
        "## 8. Which clauses of the policy the software acts on",
        "",
        "Every clause of the policy, with the rules, pages and reports that act on it, or why it "
        "is conduct the software does not judge (the public page /clauses shows the same map).",
        "",
        *clause_coverage_lines(school, settings),
        "",
        "## 9. Sign-off",
        "",
        "- DPO advice: ____________________",
        "- Headteacher: ____________________   Date: __________",
        "- Governor: ____________________   Date: __________",
        "",
    ]
    return "\n".join(lines)
