from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Network


class NetworkStartForm(forms.Form):
    """What an organiser gives to start a network. The service does the real checks
    (subdomain, password); this form checks shapes and lengths."""

    name = forms.CharField(label=_("Network name"), max_length=120)
    slug = forms.CharField(label=_("Web address"), max_length=40)
    organisation_type = forms.ChoiceField(
        label=_("Type of organisation"), choices=Network.OrganisationType.choices
    )
    organiser_name = forms.CharField(label=_("Your full name"), max_length=150)
    organiser_email = forms.EmailField(label=_("Your email address"), max_length=254)
    organiser_password = forms.CharField(
        label=_("Choose a password"), strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = (
            "Lowercase letters, digits and hyphens. Your network will live at "
            f"<address>.{settings.HEXITIME_BASE_DOMAIN}."
        )
