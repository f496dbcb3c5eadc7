from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "core.insights"
    label = "insights"
    verbose_name = "Insights"
