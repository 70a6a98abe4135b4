"""The policy as a service holds it, school accounts approved in its pages included, for
`clausewarden check --data-dir` (the service's store) and `check --service` (its bundle)."""

import asyncio
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from policy import Policy


class SourceError(Exception):
    """The service's policy could not be read: the message says why and what to do."""


def bundle_from_store(data_dir: Path, database: str | None, config_dir: Path | None) -> Any:
    """The bundle the service at `data_dir` (or `database`) serves its sensors."""
    from service.cli_support import bundle_source, open_store
    from service.config import Config

    folder = data_dir.resolve()
    if database is None and not (folder / "clausewarden.db").is_file():
        raise SourceError(
            f"--data-dir {data_dir}: no service database there; give the data folder "
            "`clausewarden serve` uses (or --database URL)"
        )
    config = Config(data_dir=folder, config_dir=config_dir, database_url=database)

    async def load() -> Any:
        async with open_store(config) as engine:
            _school, source, _tz = bundle_source(config)
            async with engine.connect() as conn:
                bundle, _etag = await source.bundle(conn, datetime.now(UTC))
        return bundle

    return asyncio.run(load())


def bundle_from_service(url: str, token_file: Path) -> Any:
    """The bundle `GET URL/api/v1/bundle` answers, with the sensor token kept in `token_file`."""
    from clausewarden.token_file import TokenFileError, read_token_file

    try:
        token = read_token_file(token_file)
    except TokenFileError as exc:
        raise SourceError(str(exc)) from None
    endpoint = url.rstrip("/") + "/api/v1/bundle"
    request = urllib.request.Request(  # noqa: S310 - the school's own service, http(s) only
        endpoint, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    if not endpoint.startswith(("http://", "https://")):
        raise SourceError(f"--service {url}: expected an address like https://clausewarden.example")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise SourceError(
                f"{endpoint} refused the token in {token_file}: give a sensor token "
                "(`clausewarden sensor add NAME`)"
            ) from None
        raise SourceError(f"{endpoint} answered {exc.code}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(
            f"could not reach {endpoint} ({reason}); is the service running?"
        ) from None
    except json.JSONDecodeError:
        raise SourceError(f"{endpoint} did not answer with a policy bundle") from None


def policy_of(bundle: Any, where: str) -> Policy:
    try:
        return Policy.from_bundle(bundle)
    except ValueError as exc:
        raise SourceError(f"{where}: {exc}") from None
