from django.apps import AppConfig


class AnnouncementsConfig(AppConfig):
    name = "core.announcements"
    label = "announcements"
    verbose_name = "Announcements from the organisers"
