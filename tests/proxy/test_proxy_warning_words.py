"""What a member of staff reads on the warning page: no reason chosen for them, and no rule id or
platform id in the words."""

import re
from pathlib import Path
from typing import Any

import pytest
from mitmproxy.test import taddons

from policy.configdir import load_config_dir
from tests.support.addon_chain import AddonChain, flow
from tests.support.proxy import WORKING_TIME


@pytest.fixture
async def tctx(tmp_path: Path):
    addon = AddonChain()
    with taddons.context(addon) as ctx:
        ctx.configure(
            addon, clausewarden_data_dir=str(tmp_path / "data"), clausewarden_now=WORKING_TIME
        )
        yield addon, ctx
        await addon.close()


async def test_the_continue_form_chooses_no_reason_for_the_member_of_staff(tctx: Any):
    addon, _ctx = tctx
    warned = flow("https://www.facebook.com/")
    await addon.request(warned)
    html = warned.response.get_text()
    radios = re.findall(r'<input type="radio" name="reason"[^>]*>', html)
    assert radios, html[:500]
    assert all("checked" not in r and "required" in r for r in radios)


async def test_the_warning_page_names_the_platform_and_no_rule_id(tctx: Any):
    addon, _ctx = tctx
    warned = flow("https://www.linkedin.com/feed/")
    await addon.request(warned)
    html = warned.response.get_text()
    visible = re.sub(
        r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", "", html, flags=re.S)
    )
    assert "LinkedIn" in visible
    assert not re.search(r"\blinkedin\b", visible)  # the id, lowercase
    rule_ids = [r.id for r in load_config_dir(None).rules.rules]
    assert not [r for r in rule_ids if re.search(rf"(?<![\w-]){re.escape(r)}(?![\w-])", visible)]
