"""The policy bundle: one JSON document holding everything a sensor needs to decide.

The proxy and the browser extension both decide from this document alone; its `version` is a
content hash, so a sensor can tell whether it holds the policy in force. `Bundle` is its one
definition: `compile_bundle` writes it, the service serves it, and its JSON Schema
(`bundle_schema`) is generated into the extension (scripts/generate_js.py).
"""

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import Field

from policy.config import (
    Clause,
    ClauseId,
    DateRange,
    DeviceGroup,
    Document,
    Identifier,
    NamedDay,
    Platform,
    RuleMatch,
    School,
    SchoolAccount,
    Settings,
    Strict,
    Weekday,
)
from policy.privacy import Privacy, privacy_part
from policy.school import SchoolConfig
from policy.staff_report import RecipientRole, ReportKind, recipients
from policy.vocabulary import Outcome

BUNDLE_FORMAT: Literal[1] = 1
"""The bundle's layout (its `format`), raised when a sensor could no longer read it."""


HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class BundleSchedule(Strict):
    """schedule.yaml as the sensors read it: working hours as `["08:00", "17:30"]` pairs."""

    time_zone: str
    working_hours: dict[Weekday, list[tuple[HHMM, HHMM]]]
    terms: list[DateRange]
    closures: list[DateRange]
    inset_days: list[NamedDay]
    bank_holidays: list[NamedDay]


class BundleRule(Strict):
    """A rule of rules.yaml as the sensors apply it: `record` and `allow_continue` resolved, and
    a relaxable warning already made a record-only rule when the settings say so."""

    id: Identifier
    description: str
    match: RuleMatch
    outcome: Outcome
    clauses: list[ClauseId]
    may_apply: list[ClauseId] = []
    """Those of `clauses` that only may apply (rules.yaml): a sensor from before reads `clauses`
    alone and cites them all, as it always did."""
    may_apply_if: str | None = None
    record: bool
    allow_continue: bool
    relaxable: bool


class BundleRecipient(Strict):
    """Someone the Tell form offers, and what they receive (policy.staff_report.recipients): never
    their email address or who reads their reports in the service."""

    id: Identifier
    role: Literal["headteacher"] | RecipientRole
    label: str
    receives: list[ReportKind]


class BundleContent(Strict):
    """Everything the version hashes: the configuration as the sensors read it."""

    format: Literal[1]
    policy_version: Identifier
    school: School
    document: Document
    clauses: list[Clause]
    platforms: list[Platform]
    schedule: BundleSchedule
    device_groups: list[DeviceGroup]
    staff_group: Identifier
    rules: list[BundleRule]
    accounts: list[SchoolAccount]
    report_recipients: list[BundleRecipient]
    """Who the Tell form offers, the Headteacher first."""
    settings: Settings
    """settings.yaml, without `report_recipients` (their email addresses stay in the service).
    Its `privacy_level` is still written for one release, for sensors of the
    release before that read it there; every reader now reads `privacy.level`. Drop it then."""


class Bundle(BundleContent):
    """The bundle as a sensor receives it (`GET /api/v1/bundle`, the extension's built-in copy)."""

    version: str = Field(pattern=r"^[0-9a-f]{16}$")
    """`content_version` of the rest."""
    privacy: Privacy


def compile_bundle(config: SchoolConfig) -> dict[str, Any]:
    """Turn a validated configuration into the bundle (plain JSON types only)."""
    settings = config.settings.settings
    relax = settings.personal_use_outside_working_time == "log"
    rules = []
    for rule in config.rules.rules:
        outcome, record, allow_continue = rule.outcome, rule.record, rule.allow_continue
        record = outcome != "allow" if record is None else record
        allow_continue = outcome == "warn" if allow_continue is None else allow_continue
        if relax and rule.relaxable:  # the headteacher chose: outside working time, record only
            outcome, allow_continue = "log", False
        rules.append(
            BundleRule(
                **rule.model_dump(exclude={"outcome", "record", "allow_continue"}),
                outcome=outcome,
                record=record,
                allow_continue=allow_continue,
            )
        )
    schedule = config.schedule
    content = BundleContent(
        format=BUNDLE_FORMAT,
        policy_version=config.policy.document.version,
        school=config.policy.school,
        document=config.policy.document,
        clauses=config.policy.clauses,
        platforms=config.platforms.platforms,
        schedule=BundleSchedule(
            **schedule.model_dump(exclude={"working_hours"}),
            working_hours={
                day: [(start.strftime("%H:%M"), end.strftime("%H:%M")) for start, end in ranges]
                for day, ranges in schedule.working_hours.items()
            },
        ),
        device_groups=config.device_groups.device_groups,
        staff_group=config.device_groups.staff_group,
        rules=rules,
        accounts=config.accounts.accounts,
        report_recipients=[
            BundleRecipient(**r.to_json()) for r in recipients(settings.report_recipients)
        ],
        settings=settings.model_copy(update={"report_recipients": []}),
    ).model_dump(mode="json")
    return {
        "version": content_version(content),
        **content,
        "privacy": privacy_part(settings.privacy_level),
    }


def bundle_schema() -> dict[str, Any]:
    """The bundle as JSON Schema (2020-12), as compile_bundle writes it."""
    schema = Bundle.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def content_version(body: dict[str, Any]) -> str:
    """A short content hash of everything but the version itself and the privacy object."""
    hashed = {k: v for k, v in body.items() if k not in ("version", "privacy")}
    canonical = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
