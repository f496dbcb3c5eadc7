from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.exchange_list, name="exchanges"),
    path("organiser/", views.organiser_overview, name="exchanges-organiser"),
    path("organiser/exchanges.csv", views.organiser_export, name="exchanges-export"),
    path("organiser/safeguarding/", views.organiser_safeguarding, name="exchanges-safeguarding"),
    path("respond/<int:listing_id>/", views.exchange_respond_view, name="exchange-respond"),
    path("<int:exchange_id>/", views.exchange_detail, name="exchange-detail"),
    path("<int:exchange_id>/invite.ics", views.exchange_invite, name="exchange-invite"),
    path("<int:exchange_id>/<slug:action>/", views.exchange_action, name="exchange-action"),
    path(
        "partner/<slug:slug>/listings/<int:listing_id>/",
        views.partner_listing,
        name="partner-listing",
    ),
    path(
        "partner/<slug:slug>/listings/<int:listing_id>/respond/",
        views.partner_respond,
        name="partner-respond",
    ),
    path(
        "partner/<slug:slug>/<int:exchange_id>/",
        views.partner_exchange_detail,
        name="partner-exchange",
    ),
    path(
        "partner/<slug:slug>/<int:exchange_id>/<slug:action>/",
        views.partner_exchange_action,
        name="partner-exchange-action",
    ),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.ExchangeListApi.as_view(), name="api-exchanges"),
    path("organiser/", apis.ExchangeOverviewApi.as_view()),
    path("safeguarding/", apis.SafeguardingContactApi.as_view(), name="api-safeguarding"),
    path("partner/<slug:slug>/respond/", apis.PartnerRespondApi.as_view()),
    path("partner/<slug:slug>/<int:exchange_id>/", apis.PartnerExchangeDetailApi.as_view()),
    *[
        path(f"partner/<slug:slug>/<int:exchange_id>/{move}/", view.as_view())
        for move, view in apis.move_apis(apis.PartnerExchangeActionApi, "exchanges_partner").items()
    ],
    path("<int:exchange_id>/", apis.ExchangeDetailApi.as_view(), name="api-exchange"),
    *[
        path(f"<int:exchange_id>/{move}/", view.as_view())
        for move, view in apis.move_apis(apis.ExchangeActionApi, "exchanges").items()
    ],
]
