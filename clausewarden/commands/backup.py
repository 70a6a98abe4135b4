"""`clausewarden backup --output FILE`: one file (a gzipped tar, 0600) with what a school cannot
make again: the service's database (SQLite's online backup API: a consistent copy while the
service runs) and the service's keys (session.key, audit.key: the audit chain is keyed by it).
Its manifest lists each file's SHA-256 and is signed with the backup key, kept outside every
archive (`backup.key` in the configuration folder, made at the first backup): `clausewarden
restore` refuses an archive that does not match it.

The proxy's CA key (devices trust that CA: a new one means installing it again) goes in only with
`--confdir DIR --include-ca-key`: whoever holds it can read every device's traffic, so by default
it stays on the proxy's host. With PostgreSQL the database is backed up with pg_dump (the command
is printed); the keys still go in the file. Never in it: the backup key, the proxy's salts and
keys (a day's salt is destroyed at midnight by design) and the sensor tokens' files. Restore with
`clausewarden restore`."""

import argparse
import hashlib
import io
import json
import os
import sqlite3
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from clausewarden.backup_key import BackupKeyError, key_path, load_or_make_key, sign
from clausewarden.commands.service_args import add_store_options

SERVICE_KEYS = ("session.key", "audit.key")
DATABASE = "clausewarden.db"
CA_FILES = ("mitmproxy-ca.pem", "mitmproxy-ca-cert.pem", "mitmproxy-ca-cert.cer",
            "mitmproxy-ca-cert.p12", "mitmproxy-ca.p12", "mitmproxy-dhparam.pem")  # fmt: skip
FORMAT = 2
"""2: the manifest holds each file's SHA-256 and is signed (MANIFEST.sig) with the backup key."""
MANIFEST, SIGNATURE = "MANIFEST.json", "MANIFEST.sig"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("backup", help="back up the database, keys and the proxy's CA",
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


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> str:
    """Add one file; its SHA-256 (for the signed manifest)."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    archive.addfile(info, io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


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
    output.parent.mkdir(parents=True, exist_ok=True)
    digests: dict[str, str] = {}
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
        }
        manifest_bytes = json.dumps(manifest, indent=2).encode()
        _add(archive, MANIFEST, manifest_bytes)
        _add(archive, SIGNATURE, (sign(key, manifest_bytes) + "\n").encode())
    os.replace(partial, output)
    os.chmod(output, 0o600)
    print(f"wrote {output} (0600): {', '.join(digests)}")
    print(f"Signed with the backup key {key_file}; restore checks it.")
    if made:
        print(
            f"Made the backup key {key_file} (0600) just now. Keep a copy of it apart from the "
            "backups (the school's password manager, or a sealed paper copy of its one line): "
            "a restore on another machine needs it, and it is never in a backup."
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
