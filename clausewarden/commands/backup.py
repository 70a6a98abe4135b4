"""`clausewarden backup --output FILE`: one file (a gzipped tar, 0600) with what a school cannot
make again: the service's database (SQLite's online backup API: a consistent copy while the
service runs), the service's keys (session.key, audit.key: the audit chain is keyed by it), the
extension package the service serves (extension/clausewarden.crx: signed with the school's own
key) and the school's configuration folder (its YAML files, service.env, and tls/ with the
certificate and its key). Its manifest lists each file's SHA-256 and mode and is signed with the
backup key, kept outside every archive (`backup.key` in the configuration folder, made at the
first backup): `clausewarden restore` refuses an archive that does not match it.

The proxy's CA key (devices trust that CA: a new one means installing it again) goes in only with
`--confdir DIR --include-ca-key`: whoever holds it can read every device's traffic, so by default
it stays on the proxy's host. With PostgreSQL the database is backed up with pg_dump (the command
is printed); the keys still go in the file. Never in it: the backup key, the proxy's salts and
keys (a day's salt is destroyed at midnight by design) and the sensor tokens' files (*.token:
`clausewarden sensor add` makes new ones). Restore with `clausewarden restore`.

From cron, name the command by its full path (cron's PATH is /usr/bin:/bin): the line is in
docs/operating.md and the wheel's deploy/cron/clausewarden-backup."""

import argparse
import hashlib
import io
import json
import os
import sqlite3
import stat
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from clausewarden.backup_key import BackupKeyError, key_path, load_or_make_key, sign
from clausewarden.commands.service_args import add_store_options
from policy.configdir import DEFAULT_CONFIG_DIR, find_config_dir

SERVICE_KEYS = ("session.key", "audit.key")
DATABASE = "clausewarden.db"
EXTENSION_PACKAGE = "extension/clausewarden.crx"
"""The signed package the service serves from its data folder (views/extension_updates.py)."""
NOT_BACKED_UP = ("backup.key",)
"""Files of the configuration folder never put in a backup: the key that signs it."""
TOKEN_SUFFIX = ".token"  # noqa: S105 - a file name's end, not a secret
"""Sensor token files (the proxy's): made again with `clausewarden sensor add`, never backed up."""
CA_FILES = ("mitmproxy-ca.pem", "mitmproxy-ca-cert.pem", "mitmproxy-ca-cert.cer",
            "mitmproxy-ca-cert.p12", "mitmproxy-ca.p12", "mitmproxy-dhparam.pem")  # fmt: skip
FORMAT = 2
"""2: the manifest holds each file's SHA-256 and is signed (MANIFEST.sig) with the backup key."""
MANIFEST, SIGNATURE = "MANIFEST.json", "MANIFEST.sig"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("backup", help="back up the database, keys, configuration folder, "
                            "TLS files and extension package",
                            description=__doc__)  # fmt: skip
    parser.add_argument("--output", "-o", type=Path, required=True, help="the file to write")
    parser.add_argument(
        "--confdir",
        type=Path,
        help="the proxy's mitmproxy folder, with its CA (as given to `clausewarden proxy "
        "--confdir`), for --include-ca-key",
    )
    parser.add_argument(
        "--include-ca-key",
        action="store_true",
        help="put the proxy's CA (its private key included) in the backup; without it the CA "
        "stays on the proxy's host only",
    )
    parser.add_argument(
        "--key",
        type=Path,
        help="the backup key that signs the archive (default: backup.key in the configuration "
        "folder, made at the first backup); never put in a backup",
    )
    add_store_options(parser)
    parser.set_defaults(run=run)


def _fail(line: str) -> int:
    print(f"clausewarden backup: {line}", file=sys.stderr)
    return 2


def pg_dump_line(url: str) -> str:
    """The pg_dump command for `url`, without its password (pg_dump asks, or reads PGPASSWORD)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url.replace("+asyncpg", "", 1).replace("postgres://", "postgresql://", 1))
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    plain = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return f"pg_dump --format=custom --file=clausewarden.pgdump '{plain}'"


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included), by its online backup API."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def config_files(folder: Path, key_file: Path) -> list[Path]:
    """The configuration folder's files to back up (its subfolders too: tls/), never the backup
    key nor a sensor token file."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if path.name in NOT_BACKED_UP or path.name.endswith(TOKEN_SUFFIX):
            continue
        if path.resolve() == key_file.resolve():
            continue
        found.append(path)
    return found


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> str:
    """Add one file; its SHA-256 (for the signed manifest)."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    archive.addfile(info, io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


def _summary(names: list[str]) -> str:
    """The files written, the configuration folder's counted rather than listed."""
    config = [n for n in names if n.startswith("config/")]
    others = [n for n in names if not n.startswith("config/")]
    if config:
        others.append(f"config/ ({len(config)} files)")
    return ", ".join(others)


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir.resolve()
    url = args.database
    postgres = bool(url) and url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")
    if url and not postgres and not url.startswith("sqlite"):
        return _fail(f"--database {url!r}: back up SQLite or PostgreSQL only")
    db_file = data_dir / DATABASE
    if url and url.startswith("sqlite"):
        db_file = Path(url.split(":///", 1)[-1])
    if not postgres and not db_file.exists():
        return _fail(f"no database at {db_file}: give the service's --data-dir (or --database)")
    output: Path = args.output
    confdir = args.confdir.expanduser() if args.confdir is not None else None
    if args.include_ca_key and confdir is None:
        return _fail("--include-ca-key needs --confdir, the proxy's mitmproxy folder")
    if args.include_ca_key and not (confdir / "mitmproxy-ca.pem").exists():  # type: ignore[operator]
        return _fail(f"--confdir {str(confdir)!r} holds no CA (mitmproxy-ca.pem)")
    key_file = key_path(args.key, args.config)
    try:
        key, made = load_or_make_key(key_file)
    except BackupKeyError as exc:
        return _fail(str(exc))
    config_dir, _why = find_config_dir(args.config)
    school_config = config_dir.resolve() != DEFAULT_CONFIG_DIR and config_dir.is_dir()
    output.parent.mkdir(parents=True, exist_ok=True)
    digests: dict[str, str] = {}
    modes: dict[str, int] = {}
    partial = output.with_suffix(output.suffix + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        if not postgres:
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / DATABASE
                sqlite_copy(db_file, copy)
                name = f"service/{DATABASE}"
                digests[name] = _add(archive, name, copy.read_bytes())
        for base in SERVICE_KEYS:
            path = data_dir / base
            if path.exists():
                digests[f"service/{base}"] = _add(archive, f"service/{base}", path.read_bytes())
        package = data_dir / EXTENSION_PACKAGE
        if package.is_file():
            name = f"service/{EXTENSION_PACKAGE}"
            digests[name] = _add(archive, name, package.read_bytes())
        if school_config:
            for path in config_files(config_dir, key_file):
                name = f"config/{path.relative_to(config_dir).as_posix()}"
                digests[name] = _add(archive, name, path.read_bytes())
                modes[name] = stat.S_IMODE(path.stat().st_mode)
        if args.include_ca_key and confdir is not None:
            for base in CA_FILES:
                if (confdir / base).exists():
                    digests[f"ca/{base}"] = _add(
                        archive, f"ca/{base}", (confdir / base).read_bytes()
                    )
        manifest = {
            "format": FORMAT,
            "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "database": "postgresql" if postgres else "sqlite",
            "files": list(digests),
            "sha256": digests,
            "modes": modes,
        }
        manifest_bytes = json.dumps(manifest, indent=2).encode()
        _add(archive, MANIFEST, manifest_bytes)
        _add(archive, SIGNATURE, (sign(key, manifest_bytes) + "\n").encode())
    os.replace(partial, output)
    os.chmod(output, 0o600)
    print(f"wrote {output} (0600): {_summary(list(digests))}")
    print(f"Signed with the backup key {key_file}; restore checks it.")
    if made:
        print(
            f"Made the backup key {key_file} (0600) just now. Keep a copy of it apart from the "
            "backups (the school's password manager, or a sealed paper copy of its one line): "
            "a restore on another machine needs it, and it is never in a backup."
        )
    if not school_config:
        print(
            f"The configuration folder {config_dir} is the built-in one: nothing of it to back up "
            "(give --config for the school's own)."
        )
    if confdir is not None and not args.include_ca_key:
        print(
            "The proxy's CA key is not in it (it stays on the proxy's host); "
            "--include-ca-key puts it in."
        )
    if postgres:
        print(f"The PostgreSQL database is not in it: back it up with\n  {pg_dump_line(url)}")
    held = " and the CA's key" if args.include_ca_key else ""
    print(f"Keep it where only the IT admin can read it: it holds the service's keys{held}.")
    return 0
