"""The school's configuration files as validated, typed values (parsed from text, no file I/O)."""

import ipaddress
import re
from datetime import date, time
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from policy import ids
from policy.errors import ConfigError, Problem
from policy.staff_report import KINDS, RecipientRole, ReportKind
from policy.vocabulary import Action, Category, EndpointAction, Outcome, PrivacyLevel
from policy.yamlsource import LocatedYaml, parse_yaml


def _clause_id(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise ValueError(f"clause id {value!r} was read as a number; quote it, e.g. '{value}'")
    return value


ClauseId = Annotated[str, BeforeValidator(_clause_id), Field(pattern=ids.CLAUSE_ID.pattern)]
Identifier = Annotated[str, Field(pattern=ids.IDENTIFIER.pattern)]
Hostname = Annotated[str, Field(max_length=253, pattern=ids.HOSTNAME.pattern)]

_UNPORTABLE_REGEX = re.compile(r"\(\?P<|\(\?<[=!]|\(\?[aiLmsux]|\\[AZ]|[*+?}]\+")


def _portable_regex(value: str) -> str:
    """Patterns run in Python and in the extension's JavaScript: keep to the common subset."""
    try:
        re.compile(value, re.ASCII)  # as the engine compiles it: the second compile is a cache hit
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from None
    if _UNPORTABLE_REGEX.search(value):
        raise ValueError(
            "uses regex syntax JavaScript does not share (named groups, lookbehind, inline "
            "flags, \\A/\\Z or possessive quantifiers)"
        )
    return value


Regex = Annotated[str, BeforeValidator(_portable_regex)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# policy.yaml ---------------------------------------------------------------------------------


class School(Strict):
    name: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    headteacher: str = Field(min_length=1)


class Document(Strict):
    title: str = Field(min_length=1)
    version: Identifier
    preamble: str = ""
    approved_by: str = Field(min_length=1)
    approved_on: date
    review_on: date
    retention_note: str = ""


class Clause(Strict):
    id: ClauseId
    heading: str | None = None
    text: str | None = None
    continuation: str | None = None


class PolicyFile(Strict):
    school: School
    document: Document
    clauses: list[Clause] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_unique_and_nested(self) -> "PolicyFile":
        seen: set[str] = set()
        for clause in self.clauses:
            if clause.id in seen:
                raise ValueError(f"clause {clause.id} appears twice")
            parent = clause.id.rpartition(".")[0]
            if parent and parent not in seen:
                raise ValueError(f"clause {clause.id} comes before its parent clause {parent}")
            seen.add(clause.id)
        return self


# platforms.yaml ------------------------------------------------------------------------------


AccountCookieKind = Literal["account", "profile", "page"]
"""What the id a cookie carries stands for: `account`, a login of its own (an X or Instagram
account); `profile`, a person's own profile, so approving it approves everything that person does
on the platform (Facebook's `c_user`); `page`, a Page or brand the person is acting as, set only
while they act as it (Facebook's `i_user`)."""


class AccountCookie(Strict):
    name: str = Field(min_length=1, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
    pattern: Regex
    kind: AccountCookieKind = "account"

    @field_validator("pattern")
    @classmethod
    def _has_group(cls, value: str) -> str:
        if re.compile(value).groups < 1:
            raise ValueError("needs a capturing group: group 1 is the account id")
        return value


Flow = Literal[
    "compose",
    "reply",
    "comment",
    "share",
    "repost",
    "react",
    "follow",
    "friend_request",
    "accept",
    "invite",
    "endorse",
    "recommend",
    "message",
    "upload_publish",
]
"""What a member of staff does that an endpoint carries (issue 17 §6): `clausewarden platforms
report` lists, per platform, which of them have a recognised endpoint."""
FLOWS: tuple[str, ...] = get_args(Flow)


class Endpoint(Strict):
    action: EndpointAction
    flows: list[Flow] = Field(default=[], exclude=True)
    """The flows this endpoint carries (for the report only: not in the bundle)."""
    methods: list[Annotated[str, Field(pattern=r"^[A-Z]+$")]] = Field(min_length=1)
    path: Regex
    query: Regex | None = None
    body: Regex | None = None
    hosts: list[Hostname] = []
    source: str | None = Field(default=None, min_length=1, max_length=300)
    """Where the request shape comes from: the web app, or an open-source client's file."""
    verified_on: date | None = None
    """When the shape was last checked against its source (`clausewarden platforms report`)."""


AreaUse = Literal["app", "reading", "link", "work"]
"""What a part of a platform is: `app`, the platform itself (optionally another category, or
opening it counting as an act); `reading`, content opened straight from its CDN or its public site
and help pages; `link`, a short link that only leads elsewhere; `work`, a work tool or a sign-in
dialog. Opening a `reading`, `link` or `work` part passes without a warning and is not recorded."""


class Area(Strict):
    """A part of a platform told apart by host (a name and its subdomains) and/or path."""

    name: str = Field(min_length=1, max_length=120)
    domains: list[Hostname] = []
    path: Regex | None = None
    query: Regex | None = None
    use: AreaUse = "app"
    category: Category | None = None
    opening: EndpointAction | None = None
    """For an `app` area: opening it is this act (YouTube Studio: posting)."""

    @model_validator(mode="after")
    def _consistent(self) -> "Area":
        if not self.domains and self.path is None and self.query is None:
            raise ValueError("an area needs domains, a path or a query")
        if self.use != "app" and (self.category is not None or self.opening is not None):
            raise ValueError("category and opening are for an 'app' area only")
        return self


class Platform(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    category: Category
    domains: list[Hostname] = Field(min_length=1)
    hosts: list[Hostname] = []
    tlds: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]] = []
    account_cookies: list[AccountCookie] = []
    endpoints: list[Endpoint] = []
    areas: list[Area] = []
    """Tried in order, the first whose host and path match decides which part a request is in."""


class PlatformsFile(Strict):
    platforms: list[Platform] = Field(min_length=1)


# schedule.yaml -------------------------------------------------------------------------------

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)


def _time_range(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if not match:
        raise ValueError(f"expected a time range like '08:00-17:30', got {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h2 == 24 and m2 == 0:
        h2, m2 = 23, 59
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    if start >= end:
        raise ValueError(f"{value!r}: the start must be before the end")
    return (start, end)


TimeRange = Annotated[tuple[time, time], BeforeValidator(_time_range)]


class DateRange(Strict):
    name: str = Field(min_length=1)
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "DateRange":
        if self.end < self.start:
            raise ValueError(f"ends ({self.end}) before it starts ({self.start})")
        return self


class NamedDay(Strict):
    date: date
    name: str = Field(min_length=1)


class ScheduleFile(Strict):
    time_zone: str
    working_hours: dict[Weekday, list[TimeRange]]
    terms: list[DateRange] = Field(min_length=1)
    closures: list[DateRange] = []
    inset_days: list[NamedDay] = []
    bank_holidays: list[NamedDay] = []

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected e.g. Europe/London)") from None
        return value


# device_groups.yaml --------------------------------------------------------------------------


def _network(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(
                f"expected an address or network like 10.0.0.0/8, got {value!r}"
            ) from None
    return value


Network = Annotated[str, BeforeValidator(_network)]


class DeviceSchoolAccounts(Strict):
    """A school accounts device group (e.g. the office PC where the school's accounts are used):
    its traffic to these platforms, for these actions, counts as the school's account. For the
    platforms whose cookies carry no account id, so an approved account could never be matched."""

    platforms: list[Identifier] = Field(min_length=1)
    actions: list[Action] = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    approved_on: date
    expires_on: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "DeviceSchoolAccounts":
        if self.expires_on and self.expires_on < self.approved_on:
            raise ValueError("expires before it was approved")
        return self


class DeviceGroup(Strict):
    id: Identifier
    label: str = Field(min_length=1)
    description: str = ""
    networks: list[Network] = []
    decrypt_https: bool = True
    """Whether the proxy may open this group's secure connections to social media (the devices
    are the school's and trust its CA). False for staff's own devices and visitors: their HTTPS
    is tunnelled, never decrypted, so they get no certificate error (and no warning page over
    HTTPS); a school that manages those devices may set it true."""
    school_accounts: DeviceSchoolAccounts | None = None


class DeviceGroupsFile(Strict):
    device_groups: list[DeviceGroup] = Field(min_length=1)
    staff_group: Identifier


# rules.yaml ----------------------------------------------------------------------------------


class RuleMatch(Strict):
    categories: list[Category] | None = None
    platforms: list[Identifier] | None = None
    actions: list[Action] | None = None
    working_time: bool | None = None
    device_groups: list[Identifier] | None = None
    accounts: list[Literal["school", "personal", "unknown"]] | None = None


class Rule(Strict):
    id: Identifier
    description: str = Field(min_length=1)
    match: RuleMatch
    outcome: Outcome
    clauses: list[ClauseId] = []
    may_apply: list[ClauseId] = []
    """Those of `clauses` that only may apply: the request does not show whether the clause's
    condition is met (a message or a friend request: whether the other person is a pupil, a
    parent or a carer, clause 8.1). The warning quotes them under `may_apply_if`; the event
    records them apart from the clauses that apply."""
    may_apply_if: str | None = Field(default=None, min_length=1, max_length=200)
    """The condition, as the warning says it: "If <this>, clause 8.1 says"."""
    record: bool | None = None
    allow_continue: bool | None = None
    relaxable: bool = False
    """Personal use outside working time: with the setting `personal_use_outside_working_time:
    log` (the headteacher's choice) this warning becomes a record only."""

    @model_validator(mode="after")
    def _consistent(self) -> "Rule":
        if self.relaxable and (self.outcome != "warn" or self.match.working_time is not False):
            raise ValueError("relaxable is for a 'warn' rule matching working_time: false only")
        if self.outcome in ("log", "warn", "block") and self.record is False:
            raise ValueError(f"a '{self.outcome}' rule always records an event; drop record: false")
        if self.outcome != "warn" and self.allow_continue:
            raise ValueError("allow_continue only makes sense for a 'warn' rule")
        if self.outcome != "allow" and not self.clauses:
            raise ValueError(f"a '{self.outcome}' rule must name the clauses that apply")
        if self.may_apply and self.may_apply_if is None:
            raise ValueError(
                "may_apply needs may_apply_if: the condition the warning states, like "
                "'this person is a pupil, a parent or a carer'"
            )
        if self.may_apply_if is not None and not self.may_apply:
            raise ValueError("may_apply_if without may_apply: list the clauses that may apply")
        return self


class NotJudged(Strict):
    """Clauses of the policy the software does not judge, and one line why (the clause coverage
    map, /clauses): the school says it in its own words."""

    clauses: list[ClauseId] = Field(min_length=1)
    why: str = Field(min_length=1, max_length=300, pattern=r"^[^\n]+$")


class RulesFile(Strict):
    rules: list[Rule] = Field(min_length=1)
    not_judged: list[NotJudged] = []
    """Each clause no rule or page acts on, with why (the coverage map lists every clause)."""


# accounts.yaml -------------------------------------------------------------------------------


def _account_id(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class SchoolAccount(Strict):
    id: Identifier
    platform: Identifier
    account_id: Annotated[str, BeforeValidator(_account_id), Field(min_length=1, max_length=200)]
    label: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    approved_on: date
    expires_on: date | None = None
    actions: list[Action] = Field(min_length=1)
    kind: AccountCookieKind | None = None
    """Which kind of id `account_id` is (see AccountCookieKind); needed where the platform's
    cookies carry more than one kind (Facebook: a Page or a person's profile)."""


class AccountsFile(Strict):
    accounts: list[SchoolAccount] = []


# settings.yaml -------------------------------------------------------------------------------


ReasonAct = Literal["browse", "post", "message", "reference", "connect"]
"""What a reason can be given for: opening a page (browse) or sending one kind of act."""
REASON_ACTS: tuple[str, ...] = get_args(ReasonAct)

ReasonRoute = Literal["continue", "tell"]
"""continue: the request goes through (an allowance for that kind); tell: it stays unsent and the
Tell the Headteacher form opens instead, with the platform and the reason's report kind chosen."""


def _page_views_only() -> dict[ReasonAct, ReasonRoute]:
    return {"browse": "continue"}


class ContinueReason(Strict):
    id: Identifier
    label: str = Field(min_length=1)
    clause: ClauseId | None = None
    """The clause the reason rests on, where it names one: what that clause's own words allow is
    checked against `acts` (policy/reasons.py)."""
    acts: dict[ReasonAct, ReasonRoute] = Field(default_factory=_page_views_only, min_length=1)
    """For which kinds of request the reason is offered, and what choosing it does. A reason that
    names no kind is offered on page views only."""
    tell: str | None = None
    """The Tell the Headteacher form's "what is it about" (policy.staff_report.KINDS) that a
    `tell` route opens it with."""

    @model_validator(mode="after")
    def _tell_is_named(self) -> "ContinueReason":
        routes_to_tell = "tell" in self.acts.values()
        if routes_to_tell and self.tell is None:
            raise ValueError(
                "a reason that opens Tell the Headteacher needs `tell:`, what the report is "
                f"about ({', '.join(KINDS)})"
            )
        if self.tell is not None and self.tell not in KINDS:
            raise ValueError(f"tell: {self.tell!r} is not one of {', '.join(KINDS)}")
        if self.tell is not None and not routes_to_tell:
            raise ValueError("`tell:` is only for a reason with an act that says `tell`")
        return self


Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class ReportRecipient(Strict):
    """Someone other than the Headteacher who receives reports on the Tell form (clauses 5.3,
    12.3). Who reads them in the service is the headteacher's choice (its staff reports page);
    `email` stays in the service and never travels in the bundle."""

    id: Identifier
    role: RecipientRole
    label: str = Field(min_length=1, max_length=120)
    """Who they are, as the form shows them: "Mrs Patel, line manager for Key Stage 1"."""
    receives: list[ReportKind] | None = None
    """What they receive (default: all their role may, see policy.staff_report.ROLE_KINDS)."""
    email: list[Email] = []
    """Where the email saying a report is waiting goes (none: no email, the inbox only)."""


class TenantRestrictionsV1(Strict):
    tenants: list[str] = Field(min_length=1)
    context: str = Field(min_length=1)


class TenantRestrictionsV2(Strict):
    tenant: str = Field(min_length=1)
    policy: str = Field(min_length=1)


class HeaderInjection(Strict):
    google_allowed_domains: list[Hostname] = []
    microsoft_tenant_restrictions_v1: TenantRestrictionsV1 | None = None
    microsoft_tenant_restrictions_v2: TenantRestrictionsV2 | None = None
    microsoft_restrict_msa: bool = False
    youtube_restrict: Literal["Strict", "Moderate"] | None = None


ProxyAddress = Annotated[
    str, Field(max_length=260, pattern=r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$")
]


class Settings(Strict):
    privacy_level: PrivacyLevel = "daily"
    k_anonymity: int = Field(default=3, ge=1, le=100)
    retention_days: int = Field(default=90, ge=1, le=3650)
    allowance_minutes: int = Field(default=30, ge=1, le=480)
    event_time_granularity_minutes: Literal[1, 5, 15, 60] = 15
    body_peek_bytes: int = Field(default=65536, ge=0, le=1048576)
    annual_review_due: date | None = None
    personal_use_outside_working_time: Literal["warn", "log"] = "warn"
    """Clause 7 covers the school's computers and networks at any time: `warn` (default) warns
    personal use outside working time too; `log` (the headteacher's choice) only records it."""
    continue_reasons: list[ContinueReason] = Field(min_length=1)
    header_injection: HeaderInjection = HeaderInjection()
    proxy_address: ProxyAddress | None = None
    """host:port at which staff devices reach the proxy, for the PAC file the service serves at
    /proxy.pac (None: the host the PAC file was fetched from, port 8080)."""
    report_recipients: list[ReportRecipient] = []
    """Who besides the Headteacher receives reports from the Tell form: staff's line managers
    (clause 5.3's misuse, 12.3's comments) and the senior team (5.3's questions, 12.3)."""


class SettingsFile(Strict):
    settings: Settings


FILE_MODELS: dict[str, type[Strict]] = {
    "policy.yaml": PolicyFile,
    "platforms.yaml": PlatformsFile,
    "schedule.yaml": ScheduleFile,
    "device_groups.yaml": DeviceGroupsFile,
    "rules.yaml": RulesFile,
    "accounts.yaml": AccountsFile,
    "settings.yaml": SettingsFile,
}


def parse_file[M: Strict](model: type[M], file: str, text: str) -> tuple[M, LocatedYaml]:
    """Parse and validate one file's text; errors name the file, the line and the field."""
    located = parse_yaml(file, text)
    if located.data is None:
        raise ConfigError([Problem(file, 1, "", "the file is empty")])
    try:
        return model.model_validate(located.data), located
    except ValidationError as exc:
        raise ConfigError([_problem(located, err) for err in exc.errors()]) from None


def _problem(located: LocatedYaml, err: Any) -> Problem:
    loc = [part for part in err["loc"] if not (isinstance(part, str) and "[" in part)]
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        message = "unknown field (check its spelling)"
    elif err["type"] == "missing":
        message = "required field is missing"
    elif err["type"] == "string_pattern_mismatch":
        message = f"{err.get('input')!r} is not in the expected form"
    elif err["type"] == "literal_error":
        message = f"{err.get('input')!r} is not allowed: {message.removeprefix('Input should be ')}"
    return located.problem(loc, message)
