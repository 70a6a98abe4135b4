"""How one service process is set up: where its data lives, which database, which config folder."""

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
SYSTEM_DATA_DIR = Path("/var/lib/clausewarden")
DEFAULT_DATA_DIR = (
    _CHECKOUT / "data" if (_CHECKOUT / "pyproject.toml").is_file() else SYSTEM_DATA_DIR
)
"""./data in a source checkout (the demo), /var/lib/clausewarden when installed from the wheel."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    data_dir: Path = DEFAULT_DATA_DIR
    config_dir: Path | None = None
    """The school's configuration folder (None: clausewarden's default)."""
    database_url: str | None = None
    """SQLAlchemy URL (async driver); None: SQLite file in the data folder."""
    secure_cookies: bool = False
    """Mark session cookies Secure always (they are anyway whenever a request came over TLS)."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of reverse proxies (nginx) whose X-Forwarded-Proto and
    X-Forwarded-For the service believes; nobody else's (service/security.py)."""
    clock: Callable[[], datetime] = field(default=_utc_now)
    """Where the service reads the time (tests pass a settable clock)."""
    background_tasks: bool = True
    """Run retention in the background."""
    store_retry_seconds: float = 10.0
    """While the store cannot be written: how often the service reconnects and tries a write."""
    smtp: "SmtpSettings | None" = None
    """The school's SMTP server for the reports staff send the headteacher (None: no email; the
    reports still reach the inbox). `clausewarden serve` reads it with `smtp_from_environment`."""

    @property
    def url(self) -> str:
        """The SQLAlchemy URL with its async driver (`async_database_url`)."""
        if self.database_url:
            return async_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir / 'clausewarden.db'}"


class DatabaseUrlError(ValueError):
    """A --database URL ClauseWarden cannot use; the message is one line naming the fix (and
    never the password)."""


DATABASE_URL_HELP = (
    "give sqlite:///PATH/TO/FILE.db or postgresql://USER:PASSWORD@HOST:5432/DATABASE"
)

# The URL forms people copy from elsewhere (psql, Heroku, Django, SQLAlchemy's sync drivers)
# and the async driver ClauseWarden runs each database on.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+pg8000": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def async_database_url(url: str) -> str:
    """`url` with the async driver ClauseWarden uses: sqlite:///x.db -> sqlite+aiosqlite:///x.db,
    postgres:// and postgresql:// -> postgresql+asyncpg:// (libpq's `sslmode=` becomes asyncpg's
    `ssl=`). Raises DatabaseUrlError for anything else."""
    scheme, sep, rest = url.strip().partition("://")
    driver = _ASYNC_DRIVERS.get(scheme.lower()) if sep else None
    if driver is None:
        shown = scheme.lower() + "://" if sep else "that"
        raise DatabaseUrlError(
            f"--database: {shown} is not a database ClauseWarden runs on; {DATABASE_URL_HELP}"
        )
    if driver.startswith("sqlite") and not rest.startswith("/"):
        raise DatabaseUrlError(
            f"--database: a SQLite URL has three slashes before a relative path "
            f"(sqlite:///data/x.db) and four before an absolute one; {DATABASE_URL_HELP}"
        )
    if driver.startswith("postgresql") and "sslmode=" in rest:
        rest = rest.replace("sslmode=", "ssl=")
    return f"{driver}://{rest}"


def secure_data_dir(config: Config) -> None:
    """The data folder readable by the service's user only (0700), the SQLite database and its
    journals 0600 (SQLite gives its journals the database's mode). `clausewarden serve` also
    sets the umask to 077, so whatever the service writes later is private too."""
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _private(config.data_dir, 0o700)
    if config.database_url is None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = config.data_dir / f"clausewarden.db{suffix}"
            if path.exists():
                _private(path, 0o600)


def _private(path: Path, mode: int) -> None:
    """chmod only when the mode differs: a file already private that cannot be changed (made
    read-only or immutable by the system) is left as it is; the store says if it cannot write."""
    if stat.S_IMODE(path.stat().st_mode) != mode:
        os.chmod(path, mode)


def write_secret_file(path: Path, data: bytes) -> None:
    """Write a secret readable by its owner only (0600), replacing any old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_or_create_secret(path: Path, make: Callable[[], bytes]) -> bytes:
    if path.exists():
        return path.read_bytes()
    data = make()
    write_secret_file(path, data)
    return data


SMTP_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    """The school's SMTP server: the headteacher is emailed when a member of staff sends a report
    (clause 8.1). The password is never shown by repr and never logged."""

    host: str
    port: int = 587
    security: str = "starttls"
    """starttls (the default, port 587), tls (implicit TLS, port 465) or none (a relay on the
    same host only)."""
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str
    to: tuple[str, ...]
    ca_file: Path | None = None
    """A CA bundle to trust for the server's certificate (default: the system's)."""
    include_report: bool = False
    """Put the report itself (what happened, name, contact) in the email. Off by default: the email
    says a report is waiting, with its reference and a link, so that the report is read in the
    inbox, where every read is audited and retention deletes it."""
    link: str | None = None
    """The service's address as the headteacher opens it (for the link in the email)."""
    timeout: float = 30.0


ENV = "CLAUSEWARDEN_SMTP_"


def smtp_from_environment(env: Mapping[str, str]) -> SmtpSettings | None:
    """The SMTP settings from `CLAUSEWARDEN_SMTP_*` (None without `CLAUSEWARDEN_SMTP_HOST`). The
    password comes from `CLAUSEWARDEN_SMTP_PASSWORD_FILE` (a file, best) or
    `CLAUSEWARDEN_SMTP_PASSWORD`. A mistake raises ValueError naming the variable and the fix."""
    host = env.get(ENV + "HOST", "").strip()
    if not host:
        return None
    security = env.get(ENV + "SECURITY", "starttls").strip().lower()
    if security not in SMTP_SECURITY:
        raise ValueError(f"{ENV}SECURITY: {security!r} is not starttls, tls or none")
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    port_text = env.get(ENV + "PORT", str(default_port)).strip()
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{ENV}PORT: {port_text!r} is not a port number (1 to 65535)")
    password = None
    password_file = env.get(ENV + "PASSWORD_FILE", "").strip()
    if password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(
                f"{ENV}PASSWORD_FILE: cannot read {password_file} ({exc.strerror}); "
                "give a file the service can read"
            ) from None
    elif env.get(ENV + "PASSWORD"):
        password = env[ENV + "PASSWORD"]
    user = env.get(ENV + "USER", "").strip() or None
    if password and not user:
        raise ValueError(f"{ENV}USER: a password is set but no user name; set {ENV}USER")
    sender = env.get(ENV + "FROM", "").strip()
    to = tuple(a.strip() for a in env.get(ENV + "TO", "").split(",") if a.strip())
    if "@" not in sender:
        raise ValueError(
            f"{ENV}FROM: set the address the email comes from, e.g. clausewarden@school.sch.uk"
        )
    if not to or any("@" not in a for a in to):
        raise ValueError(f"{ENV}TO: set the headteacher's address (several: separated by commas)")
    ca_file = env.get(ENV + "CA_FILE", "").strip()
    if ca_file and not Path(ca_file).is_file():
        raise ValueError(f"{ENV}CA_FILE: {ca_file} is not a file; give the CA bundle's path")
    include = env.get(ENV + "INCLUDE_REPORT", "").strip().lower()
    if include not in ("", "0", "1", "no", "yes", "false", "true"):
        raise ValueError(f"{ENV}INCLUDE_REPORT: {include!r}; use yes or no")
    return SmtpSettings(
        host=host,
        port=int(port_text),
        security=security,
        user=user,
        password=password,
        sender=sender,
        to=to,
        ca_file=Path(ca_file) if ca_file else None,
        include_report=include in ("1", "yes", "true"),
        link=env.get(ENV + "LINK", "").strip().rstrip("/") or None,
    )
