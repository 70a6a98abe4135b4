"""Every route of the service, in one place."""

from pathlib import Path

from aiohttp import web

from service.views import admin, api, auth, public


def setup_routes(app: web.Application) -> None:
    r = app.router
    # sensors and reporting tools (JSON, bearer tokens)
    r.add_post("/api/v1/events", api.post_events)
    r.add_get("/api/v1/events", api.get_events)
    r.add_get("/api/v1/bundle", api.get_bundle)
    r.add_post("/api/v1/account-requests", api.post_account_request)
    r.add_get("/api/v1/openapi.json", api.openapi)
    r.add_get("/healthz", api.healthz)
    r.add_get("/metrics", api.metrics)
    # public
    r.add_get("/privacy", public.privacy)
    r.add_static("/static/", Path(__file__).parent / "static", name="static")
    # admin pages (session login, CSRF on every form)
    r.add_get("/login", auth.login_form)
    r.add_post("/login", auth.login)
    r.add_post("/logout", auth.logout)
    r.add_get("/", admin.dashboard, name="dashboard")
    r.add_get("/events", admin.event_log)
    r.add_get("/events/export", admin.event_export)
    r.add_get("/accounts", admin.accounts)
    r.add_post("/accounts", admin.account_add)
    r.add_post("/accounts/{id}/edit", admin.account_edit)
    r.add_post("/accounts/{id}/approve", admin.account_approve)
    r.add_post("/accounts/{id}/expire", admin.account_expire)
    r.add_get("/sensors", admin.sensors_page)
    r.add_post("/sensors", admin.sensor_add)
    r.add_post("/sensors/{name}/revoke", admin.sensor_revoke)
    r.add_get("/users", admin.users_page)
    r.add_post("/users", admin.user_add)
    r.add_post("/users/{name}", admin.user_change)
    r.add_post("/tokens", admin.token_add)
    r.add_post("/tokens/{id}/revoke", admin.token_revoke)
    r.add_get("/settings", admin.settings_page)
    r.add_post("/settings", admin.settings_save)
    r.add_post("/settings/schedule", admin.schedule_save)
    r.add_get("/audit", admin.audit_page)
    r.add_get("/dpia", admin.dpia_page)
    r.add_get("/investigations", admin.investigations_page)
    r.add_post("/investigations", admin.investigation_open)
    r.add_post("/investigations/{id}/countersign", admin.investigation_countersign)
    r.add_post("/investigations/{id}/test", admin.investigation_test)
    r.add_post("/investigations/{id}/close", admin.investigation_close)
