"""Write the extension's zip reproducibly (build.mjs runs `python build_zip.py OUT ROOT NAME...`).

The names go in the order given, each with a fixed timestamp (1980-01-01), mode and creator, and
deflated at level 9, so the same sources always give the same bytes. Standard library only.
"""

import sys
import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
UNIX = 3


def write_zip(out: Path, root: Path, names: list[str]) -> None:
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = UNIX
            info.external_attr = 0o100644 << 16
            archive.writestr(info, (root / name).read_bytes(), compresslevel=9)


if __name__ == "__main__":
    write_zip(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
