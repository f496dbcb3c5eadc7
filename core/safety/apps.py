from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "core.safety"
    label = "safety"
    verbose_name = "Reports and moderation"
