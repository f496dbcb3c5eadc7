from django.apps import AppConfig


class JoiningConfig(AppConfig):
    """Joining a network (no models of its own: they are core.members'); an app so its
    tasks are found and its place in the layers is its own."""

    name = "core.joining"
    label = "joining"
    verbose_name = "Joining"
