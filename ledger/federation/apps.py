from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "ledger.federation"
    label = "federation"
    verbose_name = "Federation ledger"
