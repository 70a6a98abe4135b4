"""`clausewarden backup --output FILE`: one file (a gzipped tar, 0600) with what a school cannot
make again: the service's database (SQLite's online backup API: a consistent copy while the
service runs), the service's keys (session.key, audit.key: the audit chain is keyed by it), and
the proxy's CA key and certificate (devices trust that CA: a new one means installing it again).

With PostgreSQL the database is backed up with pg_dump (the command is printed); the keys and the
CA still go in the file. Never in it: the proxy's salts and keys (a day's salt is destroyed at
midnight by design) and the sensor tokens' files. Restore with `clausewarden restore`."""

import argparse
import io
import json
import os
import sqlite3
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from clausewarden.commands.service_args import add_store_options

SERVICE_KEYS = ("session.key", "audit.key")
DATABASE = "clausewarden.db"
CA_FILES = ("mitmproxy-ca.pem", "mitmproxy-ca-cert.pem", "mitmproxy-ca-cert.cer",
            "mitmproxy-ca-cert.p12", "mitmproxy-ca.p12", "mitmproxy-dhparam.pem")  # fmt: skip
FORMAT = 1


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("backup", help="back up the database, keys and the proxy's CA",
                            description=__doc__)  # fmt: skip
    parser.add_argument("--output", "-o", type=Path, required=True, help="the file to write")
    parser.add_argument(
        "--confdir",
        type=Path,
        help="the proxy's mitmproxy folder, with its CA (as given to `clausewarden proxy "
        "--confdir`); left out: no CA in the backup",
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


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    archive.addfile(info, io.BytesIO(data))


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
    contents: list[str] = []
    output: Path = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    confdir = args.confdir.expanduser() if args.confdir is not None else None
    if confdir is not None and not (confdir / "mitmproxy-ca.pem").exists():
        return _fail(f"--confdir {str(confdir)!r} holds no CA (mitmproxy-ca.pem)")
    partial = output.with_suffix(output.suffix + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        if not postgres:
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / DATABASE
                sqlite_copy(db_file, copy)
                _add(archive, f"service/{DATABASE}", copy.read_bytes())
            contents.append(f"service/{DATABASE}")
        for name in SERVICE_KEYS:
            path = data_dir / name
            if path.exists():
                _add(archive, f"service/{name}", path.read_bytes())
                contents.append(f"service/{name}")
        if confdir is not None:
            for name in CA_FILES:
                if (confdir / name).exists():
                    _add(archive, f"ca/{name}", (confdir / name).read_bytes())
                    contents.append(f"ca/{name}")
        manifest = {
            "format": FORMAT,
            "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "database": "postgresql" if postgres else "sqlite",
            "files": contents,
        }
        _add(archive, "MANIFEST.json", json.dumps(manifest, indent=2).encode())
    os.replace(partial, output)
    os.chmod(output, 0o600)
    print(f"wrote {output} (0600): {', '.join(contents)}")
    if postgres:
        print(f"The PostgreSQL database is not in it: back it up with\n  {pg_dump_line(url)}")
    print("Keep it where only the IT admin can read it: it holds the keys and the CA's key.")
    return 0
