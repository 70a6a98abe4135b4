"""`clausewarden restore FILE --data-dir DIR [--confdir DIR]`: put back what `clausewarden backup`
wrote, into an empty data folder (and mitmproxy folder), every file 0600 and folders 0700, and the
configuration folder's files into the configuration folder (the one holding backup.key) with the
modes they had; a file already there with the same content is left as it is, one that differs
stops the restore before anything is written. Then start the service on that folder: it applies
any newer migrations at start.

Nothing is restored unless the archive's signed manifest checks out under the backup key (kept
outside every backup: `backup.key` in the configuration folder, or --key FILE) and every file
matches its SHA-256 there: an archive edited after it was made (a users table changed, a key
replaced) is refused in one line."""

import argparse
import hashlib
import json
import os
import sys
import tarfile
from pathlib import Path, PurePosixPath

from clausewarden.backup_key import DEFAULT_CONFIG_DIR as SYSTEM_CONFIG
from clausewarden.backup_key import BackupKeyError, key_path, load_key, signed_by
from clausewarden.commands.backup import (
    CA_FILES,
    DATABASE,
    EXTENSION_PACKAGE,
    MANIFEST,
    NOT_BACKED_UP,
    SERVICE_KEYS,
    SIGNATURE,
)

ALLOWED = {f"service/{n}" for n in (DATABASE, *SERVICE_KEYS, EXTENSION_PACKAGE)} | {
    f"ca/{n}" for n in CA_FILES
}


def allowed(name: str) -> bool:
    """A member restore writes: a known service or CA file, or a file of the configuration folder
    (a relative path inside it, never the backup key)."""
    if name in ALLOWED:
        return True
    folder, _, rest = name.partition("/")
    parts = PurePosixPath(rest).parts
    return (
        folder == "config"
        and bool(parts)
        and not rest.startswith("/")
        and ".." not in parts
        and parts[-1] not in NOT_BACKED_UP
    )


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("restore", help="restore a backup into an empty data folder",
                            description=__doc__)  # fmt: skip
    parser.add_argument("file", type=Path, help="the file `clausewarden backup` wrote")
    parser.add_argument("--data-dir", type=Path, required=True, help="the service's data folder")
    parser.add_argument("--confdir", type=Path, help="the proxy's mitmproxy folder (for the CA)")
    parser.add_argument(
        "--config",
        type=Path,
        help="the configuration folder holding backup.key, where the backed-up configuration "
        "files go back (default: $CLAUSEWARDEN_CONFIG, else /etc/clausewarden)",
    )
    parser.add_argument("--key", type=Path, help="the backup key file, if not in --config")
    parser.set_defaults(run=run)


def _fail(line: str) -> int:
    print(f"clausewarden restore: {line}", file=sys.stderr)
    return 2


def _write(path: Path, data: bytes, mode: int = 0o600, folder_mode: int = 0o700) -> None:
    path.parent.mkdir(mode=folder_mode, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, mode)  # whatever the umask


def _holds(path: Path, data: bytes) -> bool:
    """True when `path` is a file with exactly `data` (restored already, or never changed)."""
    try:
        return path.is_file() and path.read_bytes() == data
    except OSError:
        return False


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    stream = archive.extractfile(member)
    return stream.read() if stream is not None else b""


def run(args: argparse.Namespace) -> int:
    try:
        archive = tarfile.open(args.file, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        return _fail(f"{str(args.file)!r} is not a backup of clausewarden backup ({exc})")
    key_file = key_path(args.key, args.config)
    try:
        key = load_key(key_file)
    except BackupKeyError as exc:
        return _fail(str(exc))
    tampered = (
        f"{str(args.file)!r} does not match its signature under the backup key {key_file}: it "
        "was changed after it was made (or made with another key); nothing was restored"
    )
    with archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile()}
        if MANIFEST not in members:
            return _fail(f"{str(args.file)!r} has no {MANIFEST}: not a clausewarden backup")
        if SIGNATURE not in members:
            return _fail(
                f"{str(args.file)!r} is not signed (made before backups were, or its signature "
                "was taken out): nothing was restored; take a new backup with this version"
            )
        manifest_bytes = _read(archive, members[MANIFEST])
        if not signed_by(key, manifest_bytes, _read(archive, members[SIGNATURE]).decode()):
            return _fail(tampered)
        manifest = json.loads(manifest_bytes)
        digests: dict[str, str] = manifest.get("sha256") or {}
        files = [n for n in manifest.get("files", []) if allowed(n) and n in digests]
        modes: dict[str, int] = manifest.get("modes") or {}
        if any(n not in members for n in files):
            return _fail(tampered)
        contents = {n: _read(archive, members[n]) for n in files}
        if any(hashlib.sha256(data).hexdigest() != digests[n] for n, data in contents.items()):
            return _fail(tampered)
        data_dir: Path = args.data_dir
        config_dir = args.config or Path(os.environ.get("CLAUSEWARDEN_CONFIG") or SYSTEM_CONFIG)
        targets: dict[str, Path] = {}
        for name in files:
            folder, _, base = name.partition("/")
            if folder == "ca":
                if args.confdir is None:
                    continue
                targets[name] = args.confdir.expanduser() / base
            elif folder == "config":
                targets[name] = config_dir / base
            else:
                targets[name] = data_dir / base
        same = {n for n, p in targets.items() if n.startswith("config/") and _holds(p, contents[n])}
        clash = [str(p) for n, p in targets.items() if p.exists() and n not in same]
        if clash:
            return _fail(
                f"{clash[0]} exists: restore into an empty folder (move the old one away first)"
            )
        for name, path in targets.items():
            if name in same:
                continue
            if name.startswith("config/"):
                mode = int(modes.get(name, 0o600)) & 0o755  # as it was, never writable by others
                _write(path, contents[name], mode, folder_mode=0o755)
            else:
                _write(path, contents[name])
    for name, path in targets.items():
        if not name.startswith("config/"):
            os.chmod(path.parent, 0o700)
    written = [n for n in targets if n not in same]
    data = [str(targets[n]) for n in written if not n.startswith("config/")]
    config = [n for n in written if n.startswith("config/")]
    shown = data + ([f"{len(config)} files of {config_dir}"] if config else [])
    print(f"restored {len(written)} files: {', '.join(shown)}")
    if any(n.startswith("ca/") for n in files) and args.confdir is None:
        print("The CA in the backup was not restored: give --confdir for the proxy's folder.")
    if manifest.get("database") == "postgresql":
        print("The database is PostgreSQL's: restore it with pg_restore (docs/operating.md).")
    print(f"Start the service with --data-dir {data_dir}: it applies any newer migrations.")
    return 0
