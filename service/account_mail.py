"""Telling the headteacher by email that a school account waits for their approval (clause 10.1),
when the school's SMTP server is set (service/mailer.py); the admin pages say it too (a notice by
School accounts in the menu). The email names the platform, the kind of account, its label and
who asked; never the account's id, which stays in the service."""

import logging

from aiohttp import web

from policy.config import Platform
from policy.school import account_kinds
from service.mailer import MAILER

log = logging.getLogger("clausewarden.service")


def kind_words(platform: Platform | None, kind: str | None) -> str:
    """What the approved id stands for, said plainly (a Page, a person's profile, an account)."""
    if platform is None:
        return kind or "account"
    kinds = account_kinds(platform)
    kind = kind or next((k for k in kinds if k != "page"), "account")
    if kind == "page":
        return f"{platform.name} Page: counts only while someone acts as the Page"
    if kind == "profile":
        return (
            f"a person's own {platform.name} profile: everything this person does on "
            f"{platform.name} counts as school business"
        )
    return f"{platform.name} account with its own login"


def pending_account_email(
    *, platform: str, kind: str, label: str, requested: str, at: str
) -> tuple[str, str]:
    """(subject, body) of the email saying an account waits for approval."""
    subject = f"ClauseWarden: a {platform} school account waits for your approval"
    body = "\n".join(
        [
            "A school social media account waits for your approval (clause 10.1).",
            "",
            f"Platform: {platform}",
            f"What would be approved: {kind}",
            f"Label: {label}",
            f"Asked for: {requested}",
            f"When: {at} (UTC)",
            "",
            "Approve or reject it on the School accounts page of ClauseWarden, where you choose "
            "the actions it is allowed (messaging is off unless you tick it) and when the "
            "approval ends (the end of the school year unless you change it).",
        ]
    )
    return subject, body


def tell_headteacher(
    app: web.Application, *, platform: str, kind: str, label: str, requested: str, at: str
) -> bool:
    """Send the email in a task of its own (no handler waits on SMTP); False when no SMTP server
    is set (the admin pages' notice is then the only way the headteacher is told)."""
    mailer = app[MAILER]
    if not mailer.enabled:
        return False
    subject, body = pending_account_email(
        platform=platform, kind=kind, label=label, requested=requested, at=at
    )

    async def send() -> None:
        why = await mailer.send(subject, body)
        if why is not None:
            log.warning("the headteacher was not emailed about a school account: %s", why)

    mailer.spawn(send)
    return True
