from django.apps import AppConfig


class GroupSessionsConfig(AppConfig):
    # Not "sessions": that label is django.contrib.sessions'.
    name = "core.groupsessions"
    label = "groupsessions"
    verbose_name = "Group sessions and calendars"
