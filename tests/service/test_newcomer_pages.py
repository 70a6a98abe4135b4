"""What a newcomer meets on the admin pages, through real HTTP: an admin offered only the roles
an admin may give, and told why and whom to ask for the others; an empty dashboard that says
what will appear and how to try it."""

from tests.support.forms import csrf_from, form_post
from tests.support.service import add_user, login


async def test_an_admin_is_offered_only_the_roles_an_admin_gives_and_told_whom_to_ask(cli):
    await add_user(cli, "ivan", "admin")
    await add_user(cli, "helen", "headteacher")
    await login(cli, "ivan")
    html = await (await cli.get("/users")).text()
    add_form = html.split('id="new-user-role"', 1)[1].split("</select>", 1)[0]
    assert "<option>viewer</option>" in add_form and "<option>admin</option>" in add_form
    assert "headteacher" not in add_form and "governor" not in add_form
    assert "Only the headteacher gives the headteacher or governor role" in html
    assert "Only the headteacher changes a headteacher." in html  # helen's row: no form


async def test_an_admin_posting_a_governor_role_gets_a_403_saying_why_and_what_to_do(cli):
    await add_user(cli, "ivan", "admin")
    await login(cli, "ivan")
    resp = await form_post(
        cli, "/users", "/users", {"name": "gina", "role": "governor", "password": "x" * 12}
    )
    assert resp.status == 403
    text = await resp.text()
    assert text.startswith("Only the headteacher gives or changes the governor role")
    assert "Ask the headteacher to do it on the Users page" in text
    assert "clausewarden user add NAME --role headteacher" in text


async def test_the_headteacher_is_offered_every_role(cli):
    await add_user(cli, "helen", "headteacher")
    await login(cli, "helen")
    html = await (await cli.get("/users")).text()
    add_form = html.split('id="new-user-role"', 1)[1].split("</select>", 1)[0]
    assert "<option>governor</option>" in add_form and "<option>headteacher</option>" in add_form
    assert "Only the headteacher gives" not in html


async def test_an_empty_dashboard_says_what_will_appear_and_how_to_try_it(cli):
    await add_user(cli, "ivan", "admin")
    await login(cli, "ivan")
    page = await cli.get("/")
    html = await page.text()
    assert "No events in this period yet" in html
    assert "clausewarden demo --sample-data" in html
    assert "none yet: a platform is listed after its first event" in html
    assert csrf_from(html)  # the page is whole (the period form is there)
