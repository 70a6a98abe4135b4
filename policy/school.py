"""All of a school's configuration files together, checked against each other."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

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

    groups_yaml = located["device_groups.yaml"]
    for i, group in enumerate(config.device_groups.device_groups):
        if group.school_accounts is None:
            continue
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

    rules_yaml = located["rules.yaml"]
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

    accounts_yaml = located["accounts.yaml"]
    for i, account in enumerate(config.accounts.accounts):
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
    return problems


ACCOUNT_KIND_WORDS = {
    "account": "an account with its own login",
    "profile": "a person's own profile",
    "page": "a Page (matches only while someone acts as the Page)",
}
"""How each kind of account id is named to the people who approve one."""


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
