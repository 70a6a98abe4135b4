"""Mistakes a newcomer makes, each turned into one line naming the fix (cli.main prints it)
instead of a traceback: a database URL or password that does not work, a port in use.

`CommandError` is raised by a command with the line it wants printed; `explain` reads an
exception that came up from a library (SQLAlchemy, asyncpg, sqlite3, the socket layer)."""

import errno
import socket
import sqlite3
from datetime import UTC, datetime


class CommandError(Exception):
    """A mistake the person can fix; `str()` is the one line that says how."""


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc`, the driver's error inside it (SQLAlchemy's `.orig`), and their causes."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen) or len(seen) > 20:
            continue
        seen.append(current)
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return seen


def _where(url: str | None) -> tuple[str, str]:
    """(the database as a person names it, its kind), never with the password."""
    if not url:
        return "the SQLite file in the data folder", "sqlite"
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - an unreadable URL is named without its text
        return "the database of --database", "unknown"
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database}", "sqlite"
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"PostgreSQL at {host} (database {parsed.database or '?'!s})", "postgresql"


def port_in_use(exc: BaseException) -> bool:
    return any(isinstance(c, OSError) and c.errno == errno.EADDRINUSE for c in _causes(exc))


def explain_database(exc: BaseException, url: str | None) -> str | None:
    """One line for a database that cannot be used, or None when `exc` is something else."""
    from service.config import DATABASE_URL_HELP, DatabaseUrlError

    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, DatabaseUrlError):
            return str(cause)
    names = {type(c).__name__ for c in causes}
    text = " ".join(str(c) for c in causes).lower()
    where, kind = _where(url)
    setting = "--database (or CLAUSEWARDEN_DATABASE)"
    if "ArgumentError" in names and "url" in text:
        return f"--database: the URL cannot be read; {DATABASE_URL_HELP}"
    if "InvalidPasswordError" in names or "password authentication failed" in text:
        return (
            f"{where} refused the user name and password in {setting}: check them, or set "
            "the password with: sudo -u postgres psql -c \"ALTER ROLE name PASSWORD '...'\""
        )
    if "InvalidAuthorizationSpecificationError" in names or "no pg_hba.conf entry" in text:
        return (
            f"{where} does not let this user in (pg_hba.conf or the role): give a role that may "
            f"log in in {setting}"
        )
    if "InvalidCatalogNameError" in names or ("database" in text and "does not exist" in text):
        return (
            f"{where} does not exist: create it with "
            "sudo -u postgres createdb --owner=USER DATABASE, or name another in " + setting
        )
    if kind == "postgresql" and any(
        isinstance(c, ConnectionRefusedError | socket.gaierror | TimeoutError) for c in causes
    ):
        return f"cannot reach {where}: start PostgreSQL, or correct the host and port in {setting}"
    if kind == "postgresql" and any(isinstance(c, OSError) for c in causes):
        return f"cannot reach {where}: check the host and port in {setting}"
    sqlite_error = any(isinstance(c, sqlite3.Error) for c in causes) or kind == "sqlite"
    if sqlite_error and "unable to open database file" in text:
        return (
            f"cannot open {where}: make sure its folder exists and the service's user may "
            "write there (or give another --data-dir)"
        )
    if sqlite_error and "readonly database" in text:
        return (
            f"{where} is read-only: give the service's user write permission on it and its folder"
        )
    if sqlite_error and ("disk is full" in text or "disk i/o error" in text):
        return f"{where} cannot be written (the disk is full or failing): free some space"
    return None


def port_taken_line(host: str, port: int, option: str) -> str:
    return (
        f"{host}:{port} is already in use (another clausewarden serve, proxy or demo?): stop "
        f"it, or choose another {option}"
    )


def check_port_free(host: str, port: int, option: str) -> None:
    """Raise CommandError when `host:port` cannot be listened on because something holds it
    (checked before anything starts, so the person reads one line, not a library's error)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            sock.bind((host, port))
        except OSError as exc:
            if port_in_use(exc):
                raise CommandError(port_taken_line(host, port, option)) from None
            raise CommandError(
                f"cannot listen on {host}:{port} ({exc.strerror}): {option}"
            ) from None


def parse_at(value: str, option: str = "--at") -> datetime:
    """An ISO-8601 time with its UTC offset, as UTC; CommandError naming the fix otherwise."""
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"{option} {value!r}: expected ISO-8601 like 2026-11-25T10:30:00+00:00"
        ) from None
    if at.tzinfo is None:
        raise CommandError(f"{option} {value!r}: give the UTC offset, e.g. +00:00 or Z")
    return at.astimezone(UTC)
