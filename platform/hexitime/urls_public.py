"""URLs of the public site, served on the base domain."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from hexitime import devmail, i18n
from tenants import console
from tenants import views as tenant_views
from theming import views as theming_views

urlpatterns = [
    # The language switcher, and the JavaScript strings' catalogue for the active language
    # (served from here: the Content-Security-Policy allows scripts from this site only).
    path("i18n/language/", i18n.language_switch, name="set-language"),
    path("i18n/catalog.js", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", tenant_views.home, name="public-home"),
    path("accessibility/", theming_views.accessibility_statement, name="accessibility"),
    path("start/", tenant_views.network_start_view, name="network-start"),
    path(
        "start/<uuid:job_id>/",
        tenant_views.network_start_progress,
        name="network-start-progress",
    ),
    path("billing/stripe/webhook/", tenant_views.stripe_webhook, name="stripe-webhook"),
    path("dev/mail/", devmail.mailbox_page, name="dev-mailbox"),
    path("dev/mail/<str:name>/", devmail.mail_page, name="dev-mail"),
    path("console/", console.console_home, name="console"),
    path("console/login/", console.StaffLoginView.as_view(), name="console-login"),
    path("console/insights/", console.console_insights, name="console-insights"),
    path("console/logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("console/networks/<slug:slug>/", console.console_network, name="console-network"),
    path(
        "console/networks/<slug:slug>/<str:action>/",
        console.console_network_action,
        name="console-network-action",
    ),
]

handler400 = "hexitime.error_pages.bad_request"
handler403 = "hexitime.error_pages.permission_denied"
handler404 = "hexitime.error_pages.page_not_found"
handler500 = "hexitime.error_pages.server_error"
