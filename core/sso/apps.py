from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "core.sso"
    label = "sso"
    verbose_name = "Single sign-on (OpenID Connect)"

    def ready(self) -> None:
        # Joining (below single sign-on) asks through its port whether this network signs
        # in through its identity provider (core.joining.sign_in).
        from core.joining.sign_in import network_provider_lookup_set

        from .selectors import sso_settings

        network_provider_lookup_set(sso_settings)
