from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "core.privacy"
    label = "privacy"
    verbose_name = "Members' data rights"
