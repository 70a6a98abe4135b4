"""All of a school's configuration files together, checked against each other."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from policy.approvals import never_approvable, passed_over_blocks
from policy.approvals import refusal as approval_refusal
from policy.config import (
    FILE_MODELS,
    AccountsFile,
    DateRange,
    DeviceGroupsFile,
    Platform,
    PlatformsFile,
    PolicyFile,
    RulesFile,
    ScheduleFile,
    SettingsFile,
    parse_file,
)
from policy.errors import ConfigError, Problem
from policy.hosts import registrable_domain
from policy.reasons import reason_problems
from policy.staff_report import CLAUSE_OF, HEADTEACHER, ROLE_KINDS, ROLE_NAMES
from policy.yamlsource import LocatedYaml


@dataclass(frozen=True, slots=True)
class SchoolConfig:
    """Every file of a configuration folder, validated alone and against each other."""

    policy: PolicyFile
    platforms: PlatformsFile
    schedule: ScheduleFile
    device_groups: DeviceGroupsFile
    rules: RulesFile
    accounts: AccountsFile
    settings: SettingsFile


def parse_config(texts: Mapping[str, str], *, folder: str = "config") -> SchoolConfig:
    """Parse every file (name -> text); raise one ConfigError listing every problem found."""
    problems: list[Problem] = []
    parsed: dict[str, object] = {}
    located: dict[str, LocatedYaml] = {}
    for name, model in FILE_MODELS.items():
        label = f"{folder}/{name}"
        if name not in texts:
            problems.append(Problem(label, 0, "", "file is missing"))
            continue
        try:
            parsed[name], located[name] = parse_file(model, label, texts[name])
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    config = SchoolConfig(
        policy=_as(parsed["policy.yaml"], PolicyFile),
        platforms=_as(parsed["platforms.yaml"], PlatformsFile),
        schedule=_as(parsed["schedule.yaml"], ScheduleFile),
        device_groups=_as(parsed["device_groups.yaml"], DeviceGroupsFile),
        rules=_as(parsed["rules.yaml"], RulesFile),
        accounts=_as(parsed["accounts.yaml"], AccountsFile),
        settings=_as(parsed["settings.yaml"], SettingsFile),
    )
    problems = cross_check(config, located)
    if problems:
        raise ConfigError(problems)
    return config


def _as[T](value: object, kind: type[T]) -> T:
    assert isinstance(value, kind)  # noqa: S101 - parse_file returned the model it was given
    return value


def cross_check(config: SchoolConfig, located: Mapping[str, LocatedYaml]) -> list[Problem]:
    """References between files must resolve; the catalogue must be unambiguous."""
    problems: list[Problem] = []
    clause_ids = {c.id for c in config.policy.clauses}
    platform_ids = {p.id for p in config.platforms.platforms}
    group_ids = {g.id for g in config.device_groups.device_groups}
    platforms = {p.id: p for p in config.platforms.platforms}

    def dupes(file: str, key: str, items: list[str]) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item in seen:
                problems.append(located[file].problem((key, i, "id"), f"id {item!r} is used twice"))
            seen.add(item)

    dupes("platforms.yaml", "platforms", [p.id for p in config.platforms.platforms])
    dupes("device_groups.yaml", "device_groups", [g.id for g in config.device_groups.device_groups])
    dupes("rules.yaml", "rules", [r.id for r in config.rules.rules])
    dupes("accounts.yaml", "accounts", [a.id for a in config.accounts.accounts])
    problems.extend(_recipient_problems(config, located["settings.yaml"]))

    owner: dict[str, str] = {}
    platforms_yaml = located["platforms.yaml"]
    for i, platform in enumerate(config.platforms.platforms):
        for field in ("domains", "hosts", "tlds"):
            for j, name in enumerate(getattr(platform, field)):
                key = f"{field}:{name}" if field == "tlds" else name
                if key in owner and owner[key] != platform.id:
                    problems.append(
                        platforms_yaml.problem(
                            ("platforms", i, field, j),
                            f"{name!r} is already listed under platform {owner[key]!r}",
                        )
                    )
                owner[key] = platform.id
                if field == "domains" and not registrable_domain(name):
                    problems.append(
                        platforms_yaml.problem(
                            ("platforms", i, field, j),
                            f"{name!r} is a public suffix, not a domain: list it under tlds "
                            "if the whole suffix belongs to the platform",
                        )
                    )

    for i, platform in enumerate(config.platforms.platforms):
        own = {*platform.domains, *platform.hosts}
        for j, endpoint in enumerate(platform.endpoints):
            for k, name in enumerate(endpoint.hosts if endpoint.body is not None else ()):
                labels = name.split(".")
                if not any(".".join(labels[n:]) in own for n in range(len(labels))):
                    # It claims another platform's host (policy.engine Policy._claims); a sensor
                    # reads a body only for the host's own platform's endpoints.
                    problems.append(
                        platforms_yaml.problem(
                            ("platforms", i, "endpoints", j, "hosts", k),
                            f"{name!r} is another platform's host: an endpoint there claims its "
                            "requests on method, path and query only; remove `body` or the host",
                        )
                    )
        for j, area in enumerate(platform.areas):
            for k, name in enumerate(area.domains):
                labels = name.split(".")
                if not any(".".join(labels[n:]) in own for n in range(len(labels))):
                    problems.append(
                        platforms_yaml.problem(
                            ("platforms", i, "areas", j, "domains", k),
                            f"{name!r} is not one of {platform.id}'s domains or hosts (nor under "
                            "one): an area is a part of its own platform",
                        )
                    )

    if config.device_groups.staff_group not in group_ids:
        problems.append(
            located["device_groups.yaml"].problem(
                ("staff_group",),
                f"{config.device_groups.staff_group!r} is not one of the device groups "
                f"({', '.join(sorted(group_ids))})",
            )
        )

    # Clause 10.3: no approval can allow what a rule blocks from every account (6.2, references).
    rules_yaml = located["rules.yaml"]
    for i, rule, later in passed_over_blocks(config.rules.rules):
        problems.append(
            rules_yaml.problem(
                ("rules", i, "id"),
                f"rule {rule.id} lets school accounts through before rule {later.id}, which "
                f"blocks {', '.join(later.match.actions or ['everything'])} from every account "
                f"(clause {', '.join(later.clauses)}): school use is subject to the rest of the "
                f"policy (clause 10.3), so move rule {rule.id} below rule {later.id}",
            )
        )
    never = never_approvable(config.rules.rules)
    groups_yaml = located["device_groups.yaml"]
    for i, group in enumerate(config.device_groups.device_groups):
        if group.school_accounts is None:
            continue
        for j, action in enumerate(group.school_accounts.actions):
            if action in never:
                problems.append(
                    groups_yaml.problem(
                        ("device_groups", i, "school_accounts", "actions", j),
                        approval_refusal(never[action]),
                    )
                )
        for j, ref in enumerate(group.school_accounts.platforms):
            where = ("device_groups", i, "school_accounts", "platforms", j)
            if ref not in platforms:
                problems.append(groups_yaml.problem(where, f"{ref!r} is not in platforms.yaml"))
            elif platforms[ref].account_cookies:
                problems.append(
                    groups_yaml.problem(
                        where,
                        f"{platforms[ref].name}'s cookies carry the account id: approve the "
                        "school's account itself (accounts.yaml or the School accounts page) "
                        "instead of every account used on these devices",
                    )
                )

    for i, rule in enumerate(config.rules.rules):
        for j, clause in enumerate(rule.clauses):
            if clause not in clause_ids:
                problems.append(
                    rules_yaml.problem(
                        ("rules", i, "clauses", j), f"clause {clause} is not in policy.yaml"
                    )
                )
        for j, clause in enumerate(rule.may_apply):
            if clause not in rule.clauses:
                problems.append(
                    rules_yaml.problem(
                        ("rules", i, "may_apply", j),
                        f"clause {clause} is not one of this rule's clauses: may_apply marks "
                        "which of its clauses only may apply",
                    )
                )
        for field, known in (("platforms", platform_ids), ("device_groups", group_ids)):
            for j, ref in enumerate(getattr(rule.match, field) or ()):
                if ref not in known:
                    problems.append(
                        rules_yaml.problem(
                            ("rules", i, "match", field, j),
                            f"{ref!r} is not a known {field.replace('_', ' ')[:-1]}",
                        )
                    )

    listed: set[str] = set()
    for i, lines in enumerate(config.rules.not_judged):
        for j, clause in enumerate(lines.clauses):
            at = ("not_judged", i, "clauses", j)
            if clause not in clause_ids:
                problems.append(rules_yaml.problem(at, f"clause {clause} is not in policy.yaml"))
            elif clause in listed:
                problems.append(
                    rules_yaml.problem(at, f"clause {clause} is listed twice under not_judged")
                )
            listed.add(clause)

    accounts_yaml = located["accounts.yaml"]
    for i, account in enumerate(config.accounts.accounts):
        for j, action in enumerate(account.actions):
            if action in never:
                problems.append(
                    accounts_yaml.problem(
                        ("accounts", i, "actions", j), approval_refusal(never[action])
                    )
                )
        if account.platform not in platform_ids:
            problems.append(
                accounts_yaml.problem(
                    ("accounts", i, "platform"), f"{account.platform!r} is not in platforms.yaml"
                )
            )
            continue
        refusal = account_refusal(platforms[account.platform], account.kind)
        if refusal is not None:
            field = "platform" if not platforms[account.platform].account_cookies else "kind"
            problems.append(accounts_yaml.problem(("accounts", i, field), refusal))
        if account.expires_on and account.expires_on < account.approved_on:
            problems.append(
                accounts_yaml.problem(
                    ("accounts", i, "expires_on"), "expires before it was approved"
                )
            )
    problems += reason_problems(config.policy, config.settings, located["settings.yaml"])
    return problems


ACCOUNT_KIND_WORDS = {
    "account": "an account with its own login",
    "profile": "a person's own profile",
    "page": "a Page (matches only while someone acts as the Page)",
}
"""How each kind of account id is named to the people who approve one."""


def _recipient_problems(config: SchoolConfig, settings_yaml: LocatedYaml) -> list[Problem]:
    """settings.yaml's report_recipients: ids unique and not the Headteacher's; each receives
    only what the clauses let its role receive (8.1, 8.4, 10.2 and 11.3.7 name the Headteacher)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, recipient in enumerate(config.settings.settings.report_recipients):
        where = ("settings", "report_recipients", i)
        if recipient.id == HEADTEACHER:
            problems.append(
                settings_yaml.problem(
                    (*where, "id"), "'headteacher' is the Headteacher's own id: choose another"
                )
            )
        elif recipient.id in seen:
            problems.append(
                settings_yaml.problem((*where, "id"), f"id {recipient.id!r} is used twice")
            )
        seen.add(recipient.id)
        allowed = ROLE_KINDS[recipient.role]
        for j, kind in enumerate(recipient.receives or ()):
            if kind in allowed:
                continue
            why = (
                f"clause {CLAUSE_OF[kind]} sends it to the Headteacher"
                if kind in CLAUSE_OF
                else f"a {ROLE_NAMES[recipient.role]} receives only {', '.join(allowed)}"
            )
            problems.append(
                settings_yaml.problem(
                    (*where, "receives", j), f"{kind!r} cannot go to this recipient: {why}"
                )
            )
    return problems


def account_kinds(platform: Platform) -> tuple[str, ...]:
    """The kinds of account id the platform's cookies carry, in the cookies' order."""
    return tuple(dict.fromkeys(c.kind for c in platform.account_cookies))


def account_refusal(platform: Platform, kind: str | None) -> str | None:
    """Why an account of `kind` on `platform` could never be matched (or must say its kind), or
    None when it can be approved."""
    kinds = account_kinds(platform)
    if not kinds:
        return (
            f"{platform.name}'s cookies carry no account id, so an approved {platform.name} "
            "account could never be recognised: make the device where the school's account is "
            "used a school accounts device group (school_accounts in device_groups.yaml) instead"
        )
    if kind is None:
        if len(kinds) > 1:
            return "say kind: " + " or kind: ".join(f"{k} ({ACCOUNT_KIND_WORDS[k]})" for k in kinds)
        return None
    if kind not in kinds:
        return f"{platform.name} has no {kind!r} accounts; its accounts are: " + ", ".join(
            f"{k} ({ACCOUNT_KIND_WORDS[k]})" for k in kinds
        )
    return None


def resolved_kind(platform: Platform, kind: str | None) -> str:
    """`kind`, or the platform's only kind when it has one."""
    kinds = account_kinds(platform)
    return kind or (kinds[0] if kinds else "account")


def default_expiry(today: date, terms: list[DateRange]) -> date:
    """The end of the school year: 31 August following `today`, or the end of the schedule's
    last term of that school year when it runs later than that."""
    end = date(today.year, 8, 31)
    if end < today:
        end = date(today.year + 1, 8, 31)
    later = [t.end for t in terms if t.start <= end < t.end]
    return max([end, *later])
