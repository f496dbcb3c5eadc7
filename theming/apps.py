from django.apps import AppConfig


class ThemingConfig(AppConfig):
    name = "theming"
    verbose_name = "Theming"
