"""Every route of the service, in one place."""

from pathlib import Path

from aiohttp import web

from service.views import (
    accounts,
    audit,
    auth,
    dashboard,
    enrol,
    events,
    extension_updates,
    health,
    investigations,
    proxy_pac,
    public,
    reporting_api,
    sensor_api,
    sensor_checks,
    sensors,
    settings,
    staff_reports,
    users,
)


def setup_routes(app: web.Application) -> None:
    r = app.router
    # sensors (JSON, the sensor's bearer token)
    r.add_post("/api/v1/events", sensor_api.post_events)
    r.add_get("/api/v1/bundle", sensor_api.get_bundle)
    r.add_post("/api/v1/account-requests", sensor_api.post_account_request)
    r.add_get("/api/v1/investigation-checks", sensor_checks.get_checks)
    r.add_post("/api/v1/investigation-checks/{id}", sensor_checks.post_answer)
    r.add_post("/api/v1/staff-reports", staff_reports.post_report)
    r.add_post("/api/v1/enrol", enrol.post_enrol)
    r.add_get("/api/v1/enrol/challenge", enrol.get_challenge)
    r.add_post("/api/v1/session", enrol.post_session)
    # reporting tools (JSON, an API token)
    r.add_get("/api/v1/events", reporting_api.get_events)
    r.add_get("/api/v1/openapi.json", reporting_api.openapi)
    # monitoring
    r.add_get("/healthz", health.healthz)
    r.add_get("/metrics", health.metrics)
    # public
    r.add_get("/privacy", public.privacy)
    r.add_get("/clauses", public.clauses)  # the clause coverage map
    r.add_get("/proxy.pac", proxy_pac.proxy_pac)  # devices: the PAC file, from the bundle in force
    r.add_get("/wpad.dat", proxy_pac.proxy_pac)  # the same, where WPAD looks for it
    r.add_get("/extension/updates.xml", extension_updates.updates_xml)  # force-installed laptops
    r.add_get("/extension/clausewarden.crx", extension_updates.package)
    r.add_static("/static/", Path(__file__).parent / "static", name="static")
    # admin pages (session login, CSRF on every form)
    r.add_get("/login", auth.login_form)
    r.add_post("/login", auth.login)
    r.add_post("/logout", auth.logout)
    r.add_get("/", dashboard.dashboard, name="dashboard")
    r.add_get("/events", events.event_log)
    r.add_get("/events/export", events.event_export)
    r.add_get("/accounts", accounts.accounts)
    r.add_post("/accounts", accounts.account_add)
    r.add_post("/accounts/{id}/edit", accounts.account_edit)
    r.add_post("/accounts/{id}/approve", accounts.account_approve)
    r.add_post("/accounts/{id}/expire", accounts.account_expire)
    r.add_get("/sensors", sensors.sensors_page)
    r.add_post("/sensors", sensors.sensor_add)
    r.add_post("/sensors/{name}/revoke", sensors.sensor_revoke)
    r.add_post("/sensors/{name}/approve", sensors.sensor_approve)
    r.add_post("/sensors-fleet", sensors.fleet_size)
    r.add_get("/users", users.users_page)
    r.add_post("/users", users.user_add)
    r.add_post("/users/{name}", users.user_change)
    r.add_post("/users/{name}/approve", users.user_approve)
    r.add_get("/password", auth.password_page)
    r.add_post("/password", auth.password_change)
    r.add_post("/tokens", users.token_add)
    r.add_post("/tokens/{id}/revoke", users.token_revoke)
    r.add_get("/settings", settings.settings_page)
    r.add_post("/settings", settings.settings_save)
    r.add_post("/settings/schedule", settings.schedule_save)
    r.add_post("/settings/use-file", settings.use_file)  # the file in force again
    r.add_get("/audit", audit.audit_page)
    r.add_get("/dpia", audit.dpia_page)
    r.add_get("/investigations", investigations.investigations_page)
    r.add_post("/investigations", investigations.investigation_open)
    r.add_post("/investigations/{id}/countersign", investigations.investigation_countersign)
    r.add_post("/investigations/{id}/test", investigations.investigation_test)
    r.add_post("/investigations/{id}/close", investigations.investigation_close)
    r.add_post("/investigations/checks/{check}/answers/{sensor}/void", investigations.answer_void)
    r.add_get("/staff-reports", staff_reports.inbox)
    r.add_post("/staff-reports/retention", staff_reports.retention_save)
    r.add_post("/staff-reports/readers", staff_reports.reader_save)
    r.add_get("/staff-reports/{reference}", staff_reports.read)
    r.add_post("/staff-reports/{reference}/delete", staff_reports.delete)
