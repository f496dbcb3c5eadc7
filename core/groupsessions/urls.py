from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.session_list, name="sessions"),
    path("new/", views.session_new, name="session-new"),
    path("<int:session_id>/", views.session_detail, name="session-detail"),
    path("<int:session_id>/invite.ics", views.session_invite, name="session-invite"),
    path("<int:session_id>/<slug:action>/", views.session_action, name="session-action"),
]

calendar_urlpatterns: list[URLPattern] = [
    path("", views.calendar_settings, name="calendar-settings"),
    path("<str:secret>.ics", views.calendar_feed, name="calendar-feed"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.SessionListApi.as_view(), name="api-sessions"),
    path("<int:session_id>/", apis.SessionDetailApi.as_view(), name="api-session"),
    *[path(f"<int:session_id>/{move}/", view.as_view()) for move, view in apis.move_apis().items()],
]

calendar_api_urlpatterns: list[URLPattern] = [
    path("feed/", apis.CalendarFeedApi.as_view(), name="api-calendar-feed"),
]
