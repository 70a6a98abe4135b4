"""The extension's self-hosted updates, for school laptops that force-install it by policy
(ExtensionInstallForcelist "ID;https://SERVICE/extension/updates.xml"): the update manifest and the
signed package. The school signs its own build (docs/devices.md) and puts it in the data folder
as extension/clausewarden.crx; the id and version in the manifest are read from the package.
No login: Chrome fetches them before anyone signs in, and they hold nothing private."""

import asyncio
from pathlib import Path
from xml.sax.saxutils import quoteattr

from aiohttp import web

from service.crx import CrxError, Package, read_package
from service.keys import CONFIG

CRX_NAME = "clausewarden.crx"
CRX_TYPE = "application/x-chrome-extension"


def crx_path(data_dir: Path) -> Path:
    return data_dir / "extension" / CRX_NAME


def _read(path: Path) -> Package | None:
    try:
        return read_package(path.read_bytes())
    except FileNotFoundError:
        return None


def _missing(path: Path) -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text=f"No extension package: put the school's signed build at {path.name} in the "
        "data folder's extension/ (docs/devices.md, 'The extension for school laptops').\n"
    )


async def updates_xml(request: web.Request) -> web.Response:
    path = crx_path(request.app[CONFIG].data_dir)
    try:
        package = await asyncio.to_thread(_read, path)
    except (CrxError, OSError) as exc:
        raise web.HTTPServiceUnavailable(
            text=f"The extension package cannot be read: {exc}\n"
        ) from None
    if package is None:
        raise _missing(path)
    codebase = str(request.url.origin().with_path(f"/extension/{CRX_NAME}"))
    xml = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>\n"
        f"  <app appid={quoteattr(package.extension_id)}>\n"
        f"    <updatecheck codebase={quoteattr(codebase)} version={quoteattr(package.version)} />\n"
        "  </app>\n"
        "</gupdate>\n"
    )
    return web.Response(
        text=xml, content_type="application/xml", headers={"Cache-Control": "no-cache"}
    )


async def package(request: web.Request) -> web.StreamResponse:
    path = crx_path(request.app[CONFIG].data_dir)
    if not await asyncio.to_thread(path.is_file):
        raise _missing(path)
    return web.FileResponse(path, headers={"Content-Type": CRX_TYPE, "Cache-Control": "no-cache"})
