"""URLs of a network's site, served on <slug>.<base domain>."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.announcements import urls as announcement_urls
from core.audit import urls as audit_urls
from core.campaigns import urls as campaign_urls
from core.cpd import urls as cpd_urls
from core.exchanges import urls as exchange_urls
from core.giving import urls as giving_urls
from core.giving import views as giving_views
from core.groupsessions import urls as session_urls
from core.insights import urls as insight_urls
from core.joining import urls as joining_urls
from core.listings import urls as listing_urls
from core.members import urls as member_urls
from core.notifications import urls as notification_urls
from core.privacy import urls as privacy_urls
from core.privacy import views as privacy_views
from core.projects import urls as project_urls
from core.safety import urls as safety_urls
from core.sso import urls as sso_urls
from core.sso import views as sso_views
from core.stories import urls as story_urls
from hexitime import home, i18n
from ledger import urls as ledger_urls
from ledger.federation import views as federation_views
from tenants import apis as tenant_apis
from tenants import views as tenant_views
from theming import urls as theming_urls

# Swagger UI comes from drf-spectacular-sidecar's static files and its set-up script from
# here (the split view); only its template's fixed inline <style> widens this page's policy.
api_docs = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

api_v1: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("notifications/", include(notification_urls.api_urlpatterns)),
    path("ledger/", include(ledger_urls.api_urlpatterns)),
    path("listings/", include(listing_urls.api_urlpatterns)),
    path("exchanges/", include(exchange_urls.api_urlpatterns)),
    path("sessions/", include(session_urls.api_urlpatterns)),
    path("calendar/", include(session_urls.calendar_api_urlpatterns)),
    path("projects/", include(project_urls.api_urlpatterns)),
    path("campaigns/", include(campaign_urls.api_urlpatterns)),
    path("giving/", include(giving_urls.api_urlpatterns)),
    path("insights/", include(insight_urls.api_urlpatterns)),
    path("cpd/", include(cpd_urls.api_urlpatterns)),
    path("stories/", include(story_urls.api_urlpatterns)),
    path("members/", include(joining_urls.api_urlpatterns)),
    path("members/", include(member_urls.api_urlpatterns)),
    path("account/", include(privacy_urls.api_urlpatterns)),
    path("safety/", include(safety_urls.api_urlpatterns)),
    path("sso/", include(sso_urls.api_urlpatterns)),
    path("accessibility/", include(theming_urls.api_urlpatterns)),
    path("announcements/", include(announcement_urls.api_urlpatterns)),
    path("plan/", tenant_apis.PlanApi.as_view(), name="api-plan"),
]

urlpatterns = [
    # The language switcher, and the JavaScript strings' catalogue for the active language
    # (served from here: the Content-Security-Policy allows scripts from this site only).
    path("i18n/language/", i18n.language_switch, name="set-language"),
    path("i18n/catalog.js", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", home.network_home, name="home"),
    path("accounts/login/", sso_views.SignInView.as_view(), name="login"),
    path("sso/", include(sso_urls)),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include(member_urls.password_urlpatterns)),
    path("join/", include(joining_urls.join_urlpatterns)),
    path("members/profile/equality/", include(insight_urls.profile_urlpatterns)),
    path("members/<int:member_id>/", home.member_profile, name="member-profile"),
    path("members/", include(joining_urls)),
    path("members/", include(member_urls)),
    path("account/", include(privacy_urls)),
    path("audit/", include(audit_urls)),
    path("privacy/", privacy_views.privacy, name="privacy"),
    path("settings/billing/", tenant_views.billing_page, name="network-billing"),
    path("settings/domains/", tenant_views.domains_page, name="network-domains"),
    path("settings/federation/", federation_views.federation_settings, name="federation-settings"),
    path("settings/sso/", include(sso_urls.settings_urlpatterns)),
    path("settings/giving/", giving_views.giving_settings_view, name="giving-settings"),
    path("notifications/", include(notification_urls)),
    path("ledger/", include(ledger_urls)),
    path("listings/", include(listing_urls)),
    path("exchanges/", include(exchange_urls)),
    path("sessions/", include(session_urls)),
    path("calendar/", include(session_urls.calendar_urlpatterns)),
    path("projects/", include(project_urls)),
    path("campaigns/", include(campaign_urls)),
    path("giving/", include(giving_urls)),
    path("insights/", include(insight_urls)),
    path("cpd/", include(cpd_urls)),
    path("stories/", include(story_urls)),
    path("safety/", include(safety_urls)),
    path("announcements/", include(announcement_urls)),
    path("", include(theming_urls)),
    path("api/v1/", include(api_v1)),
    path("welcome/", tenant_views.network_welcome, name="network-welcome"),
    path("welcome/<str:token>/", tenant_views.network_handover, name="network-handover"),
    path("api/docs/", api_docs, name="api-docs"),
]

handler400 = "hexitime.error_pages.bad_request"
handler403 = "hexitime.error_pages.permission_denied"
handler404 = "hexitime.error_pages.page_not_found"
handler500 = "hexitime.error_pages.server_error"
