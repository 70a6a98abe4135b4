"""How one service process is set up: where its data lives, which database, which config folder."""

import os
from collections.abc import Callable
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

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'clausewarden.db'}"


def secure_data_dir(config: Config) -> None:
    """The data folder readable by the service's user only (0700), the SQLite database and its
    journals 0600 (SQLite gives its journals the database's mode). `clausewarden serve` also
    sets the umask to 077, so whatever the service writes later is private too."""
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(config.data_dir, 0o700)
    if config.database_url is None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = config.data_dir / f"clausewarden.db{suffix}"
            if path.exists():
                os.chmod(path, 0o600)


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
