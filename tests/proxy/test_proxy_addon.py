"""The addon with mitmproxy's own test helpers (taddons, tflow): one hook call per case."""

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons
from mitmproxy.tls import ClientHelloData

from proxy_addon import allowance
from tests.support.addon_chain import AddonChain, flow
from tests.support.proxy import WORKING_TIME

NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}


@pytest.fixture
async def tctx(tmp_path: Path) -> AsyncIterator[tuple[AddonChain, Any]]:
    addon = AddonChain()
    with taddons.context(addon) as ctx:
        ctx.configure(
            addon,
            clausewarden_data_dir=str(tmp_path / "data"),
            clausewarden_now=WORKING_TIME,
        )
        yield addon, ctx
        await addon.close()


def events(addon: AddonChain) -> list[dict[str, Any]]:
    assert addon.outbox is not None
    return [e for _, e in addon.outbox.all_events()]


async def continue_flow(addon: AddonChain, warned, reason: str = "teaching-resource"):
    """Post the warning page's Continue form back to the proxy, as the browser would."""
    text = warned.response.get_text()
    ticket = text.split('name="ticket" value="', 1)[1].split('"', 1)[0]
    f = flow(
        f"https://{warned.request.host}/.clausewarden/continue",
        {"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    f.request.urlencoded_form = [("ticket", ticket), ("return_to", "/"), ("reason", reason)]
    await addon.request(f)
    return f


async def test_personal_facebook_navigation_in_working_time_is_warned_with_the_clause(tctx):
    addon, _ = tctx
    f = flow("https://www.facebook.com/groups/123?ref=bookmarks")
    await addon.request(f)
    assert f.response is not None and f.response.status_code == 200
    page = f.response.get_text()
    assert "Wycliffe Church of England Primary School" in page
    assert "Clause 7" in page and "This is school business" in page
    assert "Go back" in page
    [event] = events(addon)
    assert (event["platform"], event["outcome"], event["response"]) == ("facebook", "warn", "none")
    assert event["clauses"] == ["7"] and event["device"] and len(event["device"]) == 32


async def test_the_outbox_never_holds_the_path_query_or_address(tctx):
    addon, _ = tctx
    await addon.request(flow("https://www.facebook.com/groups/secret-group?ref=private-query"))
    raw = Path(addon.outbox.path).read_bytes() + Path(str(addon.outbox.path) + "-wal").read_bytes()
    for leak in (b"secret-group", b"private-query", b"127.0.0.1", b"/groups"):
        assert leak not in raw


async def test_embedded_widget_never_gets_a_warning_page(tctx):
    addon, _ = tctx
    f = flow(
        "https://connect.facebook.net/en_GB/sdk.js",
        {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script", "Sec-Fetch-Site": "cross-site"},
    )
    await addon.request(f)
    assert f.response is None and events(addon) == []


async def test_non_social_request_is_left_untouched_and_not_recorded(tctx):
    addon, _ = tctx
    f = flow("https://www.bbc.co.uk/news")
    before = f.request.copy()
    await addon.request(f)
    assert f.response is None and f.request.headers == before.headers and events(addon) == []


async def test_continue_grants_an_allowance_that_lets_the_page_load(tctx):
    addon, _ = tctx
    warned = flow("https://www.facebook.com/")
    await addon.request(warned)
    ok = await continue_flow(addon, warned)
    assert ok.response.status_code == 303 and ok.response.headers["Location"] == "/"
    cookie = ok.response.headers["Set-Cookie"].split(";", 1)[0]
    assert "HttpOnly" in ok.response.headers["Set-Cookie"]
    again = flow("https://www.facebook.com/", {**NAVIGATE, "Cookie": f"{cookie}; locale=en_GB"})
    await addon.request(again)
    assert again.response is None
    assert again.request.headers["Cookie"] == "locale=en_GB"  # the allowance never goes upstream
    recorded = events(addon)
    assert [(e["response"], e["reason_category"]) for e in recorded] == [
        ("none", None),
        ("continued", "teaching-resource"),
    ]


async def test_continue_with_a_reason_not_in_the_list_is_refused(tctx):
    addon, _ = tctx
    warned = flow("https://www.facebook.com/")
    await addon.request(warned)
    refused = await continue_flow(addon, warned, reason="I just want to")
    assert refused.response.status_code == 403 and "Set-Cookie" not in refused.response.headers


async def test_a_forged_allowance_is_refused_and_the_warning_shows_again(tctx):
    addon, _ = tctx
    tag = allowance.device_tag(addon.secret, "127.0.0.1")
    forged = allowance.sign(b"x" * 32, "allow", "facebook", tag, 4_000_000_000)
    f = flow("https://www.facebook.com/", {**NAVIGATE, "Cookie": f"{allowance.COOKIE}={forged}"})
    await addon.request(f)
    assert f.response is not None and "Clause 7" in f.response.get_text()


async def test_an_allowance_for_another_platform_is_refused(tctx):
    addon, _ = tctx
    tag = allowance.device_tag(addon.secret, "127.0.0.1")
    other = allowance.sign(addon.secret, "allow", "x", tag, 4_000_000_000)
    f = flow("https://www.facebook.com/", {**NAVIGATE, "Cookie": f"{allowance.COOKIE}={other}"})
    await addon.request(f)
    assert f.response is not None and f.response.status_code == 200


async def test_an_expired_allowance_is_refused(tctx):
    addon, ctx = tctx
    warned = flow("https://www.facebook.com/")
    await addon.request(warned)
    cookie = (await continue_flow(addon, warned)).response.headers["Set-Cookie"].split(";", 1)[0]
    ctx.configure(addon, clausewarden_now="2026-11-25T10:31:00+00:00")  # 31 minutes later
    f = flow("https://www.facebook.com/", {**NAVIGATE, "Cookie": cookie})
    await addon.request(f)
    assert f.response is not None and "Before you continue" in f.response.get_text()


async def test_a_ticket_from_another_device_cannot_continue(tctx):
    addon, _ = tctx
    warned = flow("https://www.facebook.com/")
    await addon.request(warned)
    warned.client_conn.peername = ("10.1.2.3", 5555)
    text = warned.response.get_text()
    ticket = text.split('name="ticket" value="', 1)[1].split('"', 1)[0]
    f = flow("https://www.facebook.com/.clausewarden/continue", {}, method="POST")
    f.client_conn.peername = ("10.1.2.3", 5555)
    f.request.urlencoded_form = [("ticket", ticket), ("return_to", "/"), ("reason", "other")]
    await addon.request(f)
    assert f.response.status_code == 403 and "expired" in f.response.get_text()


async def test_go_back_records_that_the_warning_was_heeded(tctx):
    addon, _ = tctx
    warned = flow("https://www.facebook.com/")
    await addon.request(warned)
    ticket = warned.response.get_text().split('name="ticket" value="', 1)[1].split('"', 1)[0]
    f = flow("https://www.facebook.com/.clausewarden/back", {}, method="POST")
    f.request.urlencoded_form = [("ticket", ticket), ("return_to", "/")]
    await addon.request(f)
    assert f.response.status_code == 200 and "history.go(-2)" in f.response.get_text()
    assert [e["response"] for e in events(addon)] == ["none", "went_back"]


async def test_continue_never_redirects_to_another_site(tctx):
    addon, _ = tctx
    warned = flow("https://www.facebook.com/")
    await addon.request(warned)
    ticket = warned.response.get_text().split('name="ticket" value="', 1)[1].split('"', 1)[0]
    f = flow("https://www.facebook.com/.clausewarden/continue", {}, method="POST")
    form = [("ticket", ticket), ("return_to", "//evil.example/"), ("reason", "teaching-resource")]
    f.request.urlencoded_form = form
    await addon.request(f)
    assert f.response.headers["Location"] == "/"


async def test_blocked_navigation_gets_the_page_without_continue(tctx, accounts_config):
    addon, ctx = tctx
    ctx.configure(addon, clausewarden_config=str(accounts_config))
    f = flow("https://www.tiktok.com/@someone")
    await addon.request(f)
    assert f.response.status_code == 403
    page = f.response.get_text()
    assert "TikTok is not available here" in page and "school business" not in page
    assert events(addon)[0]["outcome"] == "block"


async def test_blocked_request_that_is_not_a_navigation_gets_a_plain_403_naming_the_clause(
    tctx, accounts_config
):
    addon, ctx = tctx
    ctx.configure(addon, clausewarden_config=str(accounts_config))
    f = flow("https://www.tiktok.com/api/post/item_list/", {"Sec-Fetch-Mode": "cors"}, "GET")
    await addon.request(f)
    assert f.response.status_code == 403
    assert f.response.headers["Content-Type"].startswith("text/plain")
    assert "clause 7" in f.response.get_text()


async def test_a_warned_act_that_is_not_a_navigation_is_held_and_recorded_as_held(tctx):
    addon, _ = tctx
    f = flow(
        "https://www.facebook.com/api/graphql/",
        {
            "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Dest": "empty",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        "POST",
        b"fb_api_req_friendly_name=FriendingCometFriendRequestSendMutation&variables=%7B%7D",
    )
    await addon.request(f)
    # Issue 11: held, never sent upstream; the page's script gets a 403 naming the clause.
    assert f.response is not None and f.response.status_code == 403
    assert b"clause 11.4.3" in f.response.content
    [event] = events(addon)
    assert (event["action"], event["outcome"], event["held"]) == ("connect", "warn", True)


async def test_school_account_is_let_through_and_recorded_with_its_id(tctx, accounts_config):
    addon, ctx = tctx
    ctx.configure(addon, clausewarden_config=str(accounts_config))
    f = flow("https://www.facebook.com/", {**NAVIGATE, "Cookie": "c_user=1000123; xs=abc"})
    await addon.request(f)
    assert f.response is None
    [event] = events(addon)
    assert (event["account"], event["school_account"], event["outcome"]) == (
        "school",
        "wycliffe-facebook-page",
        "allow",
    )


async def test_expired_school_account_is_warned_as_personal(tctx, accounts_config):
    addon, ctx = tctx
    ctx.configure(addon, clausewarden_config=str(accounts_config))
    f = flow("https://www.facebook.com/", {**NAVIGATE, "Cookie": "c_user=1000999"})
    await addon.request(f)
    assert f.response is not None and "Register this as a school account" in f.response.get_text()
    [event] = events(addon)
    assert (event["account"], event["school_account"]) == ("personal", None)
    assert "1000999" not in json.dumps(event)


async def test_register_without_a_service_says_it_was_not_sent(tctx):
    addon, _ = tctx
    warned = flow("https://www.facebook.com/", {**NAVIGATE, "Cookie": "c_user=555"})
    await addon.request(warned)
    ticket = warned.response.get_text().split('name="ticket" value="', 1)[1].split('"', 1)[0]
    f = flow("https://www.facebook.com/.clausewarden/register", {"Cookie": "c_user=555"}, "POST")
    f.request.urlencoded_form = [("ticket", ticket), ("label", "Year 6 class page")]
    await addon.request(f)
    assert f.response.status_code == 503 and "not connected" in f.response.get_text()


async def test_staff_self_view_lists_only_this_devices_events(tctx):
    addon, _ = tctx
    await addon.request(flow("https://www.facebook.com/"))
    other = flow("https://www.instagram.com/")
    other.client_conn.peername = ("10.0.0.9", 1234)
    await addon.request(other)
    mine = flow("https://clausewarden.internal/mine")
    await addon.request(mine)
    page = mine.response.get_text()
    assert "<td>Facebook</td>" in page and "Instagram" not in page  # names, not ids
    assert "<td>facebook</td>" not in page
    assert "<td>10:00</td>" in page  # in the school's time zone (London, UTC in November)


async def test_privacy_page_says_other_connections_are_not_decrypted(tctx):
    addon, _ = tctx
    f = flow("http://clausewarden.internal/privacy")
    await addon.request(f)
    assert "passes through unopened" in f.response.get_text()


async def test_page_text_is_html_escaped(tctx, make_config):
    addon, ctx = tctx
    policy = (Path("config/policy.yaml")).read_text(encoding="utf-8")
    policy = policy.replace(
        "name: Wycliffe Church of England Primary School", 'name: "Wycliffe <script>x</script>"'
    )
    ctx.configure(addon, clausewarden_config=str(make_config(policy=policy)))
    f = flow("https://www.facebook.com/")
    await addon.request(f)
    assert "<script>x" not in f.response.get_text()
    assert "&lt;script&gt;x" in f.response.get_text()


async def test_outside_working_time_browsing_is_warned_under_clause_7(tctx):
    # Issue 11 §2: clause 7 covers the school's devices and network at any time.
    addon, ctx = tctx
    ctx.configure(addon, clausewarden_now="2026-11-25T19:00:00+00:00")
    f = flow("https://www.facebook.com/")
    await addon.request(f)
    assert f.response is not None and "Clause 7" in f.response.get_text()
    [event] = events(addon)
    assert (event["outcome"], event["working_time"]) == ("warn", False)


async def test_youtube_restricted_mode_header_replaces_the_clients_value(tctx, make_config):
    addon, ctx = tctx
    settings = Path("config/settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("youtube_restrict: null", "youtube_restrict: Strict")
    ctx.configure(addon, clausewarden_config=str(make_config(settings=settings)))
    f = flow("https://www.youtube.com/watch?v=1", {**NAVIGATE, "YouTube-Restrict": "Off"})
    await addon.request(f)
    assert f.request.headers.get_all("YouTube-Restrict") == ["Strict"]
    plain = flow("https://www.bbc.co.uk/")
    await addon.request(plain)
    assert "YouTube-Restrict" not in plain.request.headers


async def test_google_workspace_header_is_injected_on_google_hosts_only(tctx, make_config):
    addon, ctx = tctx
    settings = Path("config/settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace(
        "google_allowed_domains: []", "google_allowed_domains: [wycliffe.sch.uk]"
    )
    ctx.configure(addon, clausewarden_config=str(make_config(settings=settings)))
    f = flow("https://accounts.google.com/", {})
    await addon.request(f)
    assert f.request.headers["X-GoogApps-Allowed-Domains"] == "wycliffe.sch.uk"


class FakeHello:
    """Only the SNI of a ClientHello is read by the hook."""

    def __init__(self, sni: str | None) -> None:
        self.sni = sni


def client_hello(sni: str | None) -> ClientHelloData:
    return ClientHelloData(context=None, client_hello=FakeHello(sni))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sni", "decrypted"),
    [
        ("www.facebook.com", True),
        ("static.xx.fbcdn.net", True),
        ("www.bbc.co.uk", False),
        (None, False),
    ],
)
async def test_only_catalogue_hosts_are_decrypted(tctx, sni, decrypted):
    addon, _ = tctx
    data = client_hello(sni)
    await addon.tls_clienthello(data)
    assert data.ignore_connection is (not decrypted)


async def test_an_exception_in_the_addon_lets_the_flow_through(tctx):
    addon, _ = tctx
    addon.outbox.close()  # writing the event now fails inside the hook
    f = flow("https://www.facebook.com/")
    await addon.request(f)
    assert f.response is None and addon.failures == 1
    addon.outbox = None


async def test_a_full_outbox_counts_what_it_could_not_keep(tctx):
    addon, ctx = tctx
    ctx.configure(addon, clausewarden_outbox_max=2)
    for _ in range(5):
        await addon.request(flow("https://www.facebook.com/"))
    status = addon.outbox.status()
    assert (status["outbox_pending"], status["outbox_dropped"]) == (2, 3)


async def test_privacy_level_none_records_no_device(tctx, make_config):
    addon, ctx = tctx
    settings = Path("config/settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("privacy_level: daily", "privacy_level: none")
    ctx.configure(addon, clausewarden_config=str(make_config(settings=settings)))
    await addon.request(flow("https://www.facebook.com/"))
    assert events(addon)[0]["device"] is None


async def test_daily_pseudonym_changes_with_the_day(tctx):
    addon, ctx = tctx
    await addon.request(flow("https://www.facebook.com/"))
    ctx.configure(addon, clausewarden_now="2026-11-26T10:00:00+00:00")
    await addon.request(flow("https://www.facebook.com/"))
    first, second = events(addon)
    assert first["device"] != second["device"]


async def test_secrets_and_outbox_are_private_files(tctx):
    addon, _ = tctx
    await addon.request(flow("https://www.facebook.com/"))
    await addon.recorder.settle_saves()  # a new salt is written off the event loop
    assert (addon.data_dir / "allowance.key").stat().st_mode & 0o077 == 0
    assert (addon.data_dir / "salt.json").stat().st_mode & 0o077 == 0
    with sqlite3.connect(addon.outbox.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("clausewarden_config", "/nonexistent/folder"),
        ("clausewarden_service", "ftp://service"),
        ("clausewarden_now", "yesterday"),
        ("clausewarden_outbox_max", 0),
        ("clausewarden_sensor", "no spaces please"),
        ("clausewarden_refresh", "-1"),
        ("clausewarden_ship_delay", "soon"),
    ],
)
async def test_a_bad_option_value_is_refused_naming_option_and_value(tctx, option, value):
    addon, ctx = tctx
    with pytest.raises(exceptions.OptionsError) as refused:
        ctx.configure(addon, **{option: value})
    assert option in str(refused.value) and str(value) in str(refused.value)


async def test_a_service_without_a_token_file_is_refused(tctx):
    addon, ctx = tctx
    with pytest.raises(exceptions.OptionsError, match="clausewarden_token_file"):
        ctx.configure(addon, clausewarden_service="http://127.0.0.1:9")


async def test_a_broken_config_on_reload_keeps_the_last_good_policy(tctx, make_config, caplog):
    addon, ctx = tctx
    folder = make_config()
    ctx.configure(addon, clausewarden_config=str(folder))
    good = addon.policy
    (folder / "rules.yaml").write_text("rules:\n  - id: [broken\n", encoding="utf-8")
    assert await addon.refresh() is False
    assert addon.policy is good and addon.policy_error
    assert "keeping the last good policy" in caplog.text
    f = flow("https://www.facebook.com/")
    await addon.request(f)
    assert f.response is not None


async def test_a_changed_config_is_picked_up_on_refresh(tctx, make_config):
    addon, ctx = tctx
    folder = make_config()
    ctx.configure(addon, clausewarden_config=str(folder))
    settings = (folder / "settings.yaml").read_text(encoding="utf-8")
    (folder / "settings.yaml").write_text(
        settings.replace("allowance_minutes: 30", "allowance_minutes: 45"), encoding="utf-8"
    )
    assert await addon.refresh() is True
    assert addon.policy.settings["allowance_minutes"] == 45


async def test_microsoft_tenant_restrictions_go_on_microsoft_login_hosts_only(tctx, make_config):
    addon, ctx = tctx
    settings = Path("config/settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace(
        "microsoft_tenant_restrictions_v1: null",
        "microsoft_tenant_restrictions_v1: {tenants: [wycliffe.sch.uk], context: dir-123}",
    ).replace("microsoft_restrict_msa: false", "microsoft_restrict_msa: true")
    ctx.configure(addon, clausewarden_config=str(make_config(settings=settings)))
    login = flow("https://login.microsoftonline.com/common/oauth2", {})
    login.request.headers["Restrict-Access-To-Tenants"] = "evil.example"
    await addon.request(login)
    assert login.request.headers["Restrict-Access-To-Tenants"] == "wycliffe.sch.uk"
    assert login.request.headers["Restrict-Access-Context"] == "dir-123"
    live = flow("https://login.live.com/", {})
    await addon.request(live)
    assert live.request.headers["sec-Restrict-Tenant-Access-Policy"] == "restrict-msa"
    other = flow("https://www.office.com/", {})
    await addon.request(other)
    assert "Restrict-Access-To-Tenants" not in other.request.headers
    # The injection hosts are decrypted, so the headers can be added.
    data = client_hello("login.live.com")
    await addon.tls_clienthello(data)
    assert data.ignore_connection is False


async def test_allow_hosts_is_generated_from_the_bundle(tctx):
    import re

    from mitmproxy import ctx as mitm_ctx

    [pattern] = mitm_ctx.options.allow_hosts
    for host, decrypted in [
        ("www.facebook.com:443", True),
        ("facebook.com:443", True),
        ("notfacebook.com:443", False),
        ("facebook.com.example.org:443", False),
        ("www.bbc.co.uk:443", False),
    ]:
        assert bool(re.search(pattern, host, re.IGNORECASE)) is decrypted, host


async def test_shipped_events_of_past_days_are_pruned_but_pending_ones_kept(tctx):
    from proxy_addon.outbox import SHIPPED

    addon, ctx = tctx
    await addon.request(flow("https://www.facebook.com/"))
    await addon.request(flow("https://www.instagram.com/"))
    [(first, _), _] = addon.outbox.pending(10)
    addon.outbox.mark([first], SHIPPED)
    assert addon.outbox.prune("2026-11-26") == 1
    assert [e["platform"] for e in events(addon)] == ["instagram"]


async def test_stable_privacy_keeps_one_pseudonym_across_days(tctx, make_config):
    addon, ctx = tctx
    settings = Path("config/settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("privacy_level: daily", "privacy_level: stable")
    ctx.configure(addon, clausewarden_config=str(make_config(settings=settings)))
    await addon.request(flow("https://www.facebook.com/"))
    ctx.configure(addon, clausewarden_now="2026-11-26T10:00:00+00:00")
    await addon.request(flow("https://www.facebook.com/"))
    first, second = events(addon)
    assert first["device"] == second["device"] is not None
    await addon.recorder.settle_saves()  # the new key is written off the event loop
    assert (addon.data_dir / "device.key").stat().st_mode & 0o077 == 0


async def test_a_salt_in_an_older_last_good_bundle_is_deleted_and_never_used(tctx, tmp_path):
    # An older service handed out its salt in the bundle; the proxy now keeps its own.
    from policy.bundle import compile_bundle
    from policy.configdir import load_config_dir
    from policy.event import pseudonym
    from proxy_addon.secrets import write_private

    addon, ctx = tctx
    salt = "ab" * 32
    bundle = compile_bundle(load_config_dir(None))
    bundle["privacy"] = {"level": "daily", "salt": salt, "salt_date": "2026-11-25"}
    data = tmp_path / "with-service"
    data.mkdir()
    write_private(data / "bundle.json", json.dumps({"etag": '"x"', "bundle": bundle}).encode())
    token = tmp_path / "token"
    token.write_text("cws_test\n")
    # The service cannot be reached: the proxy starts on its last good copy of the bundle.
    ctx.configure(
        addon,
        clausewarden_data_dir=str(data),
        clausewarden_service="http://127.0.0.1:9",
        clausewarden_token_file=str(token),
    )
    await addon.request(flow("https://www.facebook.com/"))
    [event] = events(addon)
    assert event["device"] and event["device"] != pseudonym(bytes.fromhex(salt), "127.0.0.1")
    saved = json.loads((data / "bundle.json").read_text())["bundle"]
    assert saved["privacy"] == {"level": "daily"} and salt not in (data / "bundle.json").read_text()


async def test_the_services_bundle_is_fetched_without_holding_up_the_event_loop(
    tmp_path, aiohttp_server
):
    # The service answers on this same event loop, and only when told: a blocking fetch in a
    # hook would never return. Flows wait for the first bundle; the loop does not.
    from aiohttp import web

    from policy.bundle import compile_bundle
    from policy.configdir import load_config_dir

    release = asyncio.Event()
    bundle = compile_bundle(load_config_dir(None))

    async def send_bundle(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response(bundle, headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/api/v1/bundle", send_bundle)
    server = await aiohttp_server(app)
    token = tmp_path / "token"
    token.write_text("cws_test\n")
    addon = AddonChain()
    with taddons.context(addon) as ctx:
        ctx.configure(
            addon,
            clausewarden_data_dir=str(tmp_path / "data"),
            clausewarden_now=WORKING_TIME,
            clausewarden_service=str(server.make_url("/")),
            clausewarden_token_file=str(token),
        )
        f = flow("https://www.facebook.com/")
        waiting = asyncio.ensure_future(addon.request(f))
        await asyncio.sleep(0.2)
        assert not waiting.done() and addon.policy is None
        release.set()
        await waiting
        assert f.response is not None and "Clause 7" in f.response.get_text()
        saved = json.loads((tmp_path / "data" / "bundle.json").read_text())
        assert saved["etag"] == '"v1"' and saved["bundle"]["version"] == bundle["version"]
        await addon.close()


async def test_no_service_no_last_good_copy_and_a_broken_folder_leave_nothing_to_run_on(
    make_config, tmp_path, caplog
):
    # At startup the service's bundle is fetched off the hooks; when it cannot be had and the
    # folder it falls back on is broken, the proxy stops rather than pass everything unchecked.
    folder = make_config(rules="rules:\n  - id: [broken\n")
    token = tmp_path / "token"
    token.write_text("cws_test\n")
    addon = AddonChain()
    with taddons.context(addon) as ctx:
        ctx.configure(
            addon,
            clausewarden_data_dir=str(tmp_path / "fresh"),
            clausewarden_config=str(folder),
            clausewarden_service="http://127.0.0.1:9",
            clausewarden_token_file=str(token),
        )
        f = flow("https://www.facebook.com/")
        await addon.request(f)  # waits for the service's answer
        assert addon.policy is None and f.response is None
        assert "clausewarden_config" in caplog.text and "rules.yaml" in caplog.text
        await asyncio.sleep(0)
        assert ctx.master.should_exit.is_set()
        await addon.close()


async def test_a_days_salt_is_forgotten_once_the_day_is_over(tctx, tmp_path):
    from proxy_addon.secrets import write_private

    addon, ctx = tctx
    data = tmp_path / "restart"
    data.mkdir()
    # A salt left from a day before (the proxy was stopped over midnight) is deleted at start.
    write_private(
        data / "salt.json", json.dumps({"date": "2026-11-24", "salt": "00" * 32}).encode()
    )
    ctx.configure(addon, clausewarden_data_dir=str(data))
    assert not (data / "salt.json").exists()
    await addon.request(flow("https://www.facebook.com/"))
    addon.forget_old_salts("2026-11-25")
    kept = json.loads((data / "salt.json").read_text())
    assert kept["date"] == "2026-11-25" and (data / "salt.json").stat().st_mode & 0o077 == 0
    addon.forget_old_salts("2026-11-26")  # midnight: the day's salt is destroyed
    assert not (data / "salt.json").exists()


# --- held acts (issue 11 §1) ----------------------------------------------------------------

LINKEDIN_MESSAGE = "/voyager/api/messaging/conversations?action=create"
SCRIPT = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Sec-Fetch-Site": "same-origin"}


async def held_flow(
    addon: AddonChain, host: str = "www.linkedin.com", path: str = LINKEDIN_MESSAGE
):
    f = flow(f"https://{host}{path}", SCRIPT, "POST", b'{"text": "hello"}')
    await addon.request(f)
    return f


async def answer_held(
    addon: AddonChain, warned, name: str = "continue", reason: str = "other-school-business"
):
    text = warned.response.get_text()
    fields = {
        key: text.split(f'name="{key}" value="', 1)[1].split('"', 1)[0]
        for key in ("ticket", "held")
    }
    f = flow(
        f"https://{warned.request.host}/.clausewarden/{name}",
        {**NAVIGATE, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    f.request.urlencoded_form = [*fields.items(), ("return_to", "/feed/"), ("reason", reason)]
    await addon.request(f)
    return f


async def test_a_held_acts_script_gets_plain_text_unless_it_accepts_json(tctx):
    addon, _ = tctx
    f = await held_flow(addon)
    assert f.response.status_code == 403
    assert f.response.headers["content-type"].startswith("text/plain")
    assert "Not sent: your message on LinkedIn" in f.response.get_text()
    # 7 applies; 8.1 only if the person is a pupil or a parent, which the proxy cannot see.
    assert "clause 7; clause 8.1 if this person is a pupil, a parent or a carer" in (
        f.response.get_text()
    )


async def test_a_held_acts_warning_waits_a_few_minutes_for_the_next_page_then_goes(tctx):
    addon, ctx = tctx
    await held_flow(addon)
    ctx.configure(addon, clausewarden_now="2026-11-25T10:06:00+00:00")
    page = flow("https://www.linkedin.com/feed/")
    await addon.request(page)
    assert "was not sent" not in page.response.get_text()  # the ordinary page warning
    assert "Before you continue to LinkedIn" in page.response.get_text()


async def test_continue_on_a_held_act_opens_acts_on_every_host_of_the_platform(tctx):
    addon, _ = tctx
    await held_flow(addon)
    page = flow("https://www.linkedin.com/feed/")
    await addon.request(page)
    assert "Your message on LinkedIn was not sent" in page.response.get_text()
    answered = await answer_held(addon, page)
    assert answered.response.status_code == 303
    assert answered.response.headers["location"] == "/feed/"
    again = await held_flow(addon, host="linkedin.com")  # another host: no cookie reaches it
    assert again.response is None  # passes upstream
    kinds = [(e["action"], e["response"], e["held"]) for e in events(addon)]
    assert kinds == [("message", "none", True), ("message", "continued", True)]


async def test_continue_on_a_page_warning_does_not_open_acts(tctx):
    addon, _ = tctx
    page = flow("https://www.linkedin.com/feed/")
    await addon.request(page)
    answered = await continue_flow(addon, page)
    cookie = answered.response.headers["set-cookie"].split(";", 1)[0]
    f = flow(
        f"https://www.linkedin.com{LINKEDIN_MESSAGE}", {**SCRIPT, "Cookie": cookie}, "POST", b"{}"
    )
    await addon.request(f)
    assert f.response is not None and f.response.status_code == 403


async def test_a_blocked_reference_is_held_and_its_warning_offers_no_continue(tctx):
    addon, _ = tctx
    f = await held_flow(addon, path="/voyager/api/identity/profiles/abc/normEndorsements")
    assert f.response.status_code == 403 and "clause 6.2" in f.response.get_text()
    page = flow("https://www.linkedin.com/feed/")
    await addon.request(page)
    text = page.response.get_text()
    assert "Your recommendation or endorsement on LinkedIn was not sent" in text
    assert "school business" not in text
    forged = await answer_held(addon, page, reason="other-school-business")
    assert forged.response.status_code == 403
    again = await held_flow(addon, path="/voyager/api/identity/profiles/abc/normEndorsements")
    assert again.response.status_code == 403
    back = await answer_held(addon, page, name="back")  # still answerable: Go back
    assert back.response.status_code == 200
    [held, held_again, went_back] = events(addon)
    assert (held_again["outcome"], held_again["response"]) == ("block", "none")
    assert (held["outcome"], held["held"]) == ("block", True)
    assert (went_back["response"], went_back["held"]) == ("went_back", True)


async def test_the_warning_page_and_self_view_link_the_clause_map_which_the_service_serves(
    tctx, tmp_path
):
    # Issue 17 §3: the map is one page, on the service; the proxy's own host sends there.
    from policy.bundle import compile_bundle
    from policy.configdir import load_config_dir
    from proxy_addon.secrets import write_private

    addon, ctx = tctx
    f = flow("https://www.facebook.com/")
    await addon.request(f)
    assert 'clausewarden.internal/clauses" id="clause-map"' in f.response.get_text()
    mine = flow("http://clausewarden.internal/mine")
    await addon.request(mine)
    assert 'href="/clauses"' in mine.response.get_text()
    alone = flow("http://clausewarden.internal/clauses")
    await addon.request(alone)
    assert alone.response.status_code == 200
    assert "this proxy runs without one" in alone.response.get_text()

    data = tmp_path / "with-service"
    data.mkdir()
    bundle = compile_bundle(load_config_dir(None))
    write_private(data / "bundle.json", json.dumps({"etag": '"x"', "bundle": bundle}).encode())
    token = tmp_path / "token"
    token.write_text("cws_test\n")
    ctx.configure(
        addon,
        clausewarden_data_dir=str(data),
        clausewarden_service="https://clausewarden.wycliffe.sch.uk/",
        clausewarden_token_file=str(token),
    )
    sent = flow("http://clausewarden.internal/clauses")
    await addon.request(sent)
    assert sent.response.status_code == 303
    assert sent.response.headers["Location"] == "https://clausewarden.wycliffe.sch.uk/clauses"
