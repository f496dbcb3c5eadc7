from django.apps import AppConfig


class GivingConfig(AppConfig):
    name = "core.giving"
    label = "giving"
    verbose_name = "Giving credit and the community pot"
