"""The captive-portal notice comes back each school day: a device's acceptance lasts until local
midnight (mitmproxy's taddons, the proxy's whole addon chain, its clock moved)."""

from pathlib import Path

from mitmproxy.test import taddons

from tests.support.addon_chain import AddonChain, flow
from tests.support.captive import accept_url, groups_config

PROBE = "http://connectivitycheck.gstatic.com/generate_204"


async def probe(addon: AddonChain) -> tuple[int, bytes]:
    f = flow(PROBE, {})
    await addon.request(f)
    assert f.response is not None
    return f.response.status_code, f.response.content or b""


async def test_acceptance_lasts_the_local_day_and_the_next_day_asks_again(tmp_path: Path) -> None:
    addon = AddonChain()
    config = groups_config(tmp_path / "config", visitors=["127.0.0.0/8"])
    with taddons.context(addon) as ctx:
        ctx.configure(
            addon,
            clausewarden_data_dir=str(tmp_path / "data"),
            clausewarden_config=str(config),
            clausewarden_now="2026-11-25T10:00:00+00:00",
        )
        status, page = await probe(addon)
        assert status == 200 and b"Before you use this network" in page
        accept = flow(f"http://connectivitycheck.gstatic.com{accept_url(page)}", {}, "POST")
        await addon.request(accept)
        assert accept.response is not None and accept.response.status_code == 303
        assert await probe(addon) == (204, b"")
        ctx.configure(addon, clausewarden_now="2026-11-25T23:59:00+00:00")  # London: same day
        assert await probe(addon) == (204, b"")
        ctx.configure(addon, clausewarden_now="2026-11-26T00:01:00+00:00")  # the next day
        status, page = await probe(addon)
        assert status == 200 and b"Before you use this network" in page
        # yesterday's button does not accept today
        stale = flow(accept.request.url, {}, "POST")
        await addon.request(stale)
        assert stale.response is not None and stale.response.status_code == 400
        await addon.close()
