from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.notification_list_page, name="notifications"),
    path("<int:notification_id>/read/", views.notification_read, name="notification-read"),
    path("read-all/", views.notification_read_all, name="notification-read-all"),
    path("settings/", views.email_settings_page, name="notification-settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.NotificationListApi.as_view(), name="api-notifications"),
    path("<int:notification_id>/read/", apis.NotificationReadApi.as_view()),
    path("read-all/", apis.NotificationReadAllApi.as_view()),
    path("preferences/", apis.EmailPreferencesApi.as_view()),
    path("push-subscriptions/", apis.PushSubscriptionApi.as_view(), name="api-push-subscriptions"),
]
