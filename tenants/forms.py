from __future__ import annotations

from django import forms

from .models import JoinPolicy, OrganisationType


class StartNetworkForm(forms.Form):
    name = forms.CharField(label="Network name", max_length=120)
    slug = forms.CharField(
        label="Subdomain",
        max_length=40,
        help_text="Lowercase letters, digits and hyphens, e.g. oxford-ics.",
    )
    organisation_type = forms.ChoiceField(
        label="Kind of organisation", choices=OrganisationType.choices
    )
    join_policy = forms.ChoiceField(
        label="Who can join", choices=JoinPolicy.choices, initial=JoinPolicy.APPROVAL
    )
    organiser_full_name = forms.CharField(label="Your full name", max_length=150)
    organiser_email = forms.EmailField(label="Your email address", max_length=254)
    organiser_password = forms.CharField(
        label="Choose a password", widget=forms.PasswordInput, strip=False
    )

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()
