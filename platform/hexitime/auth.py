"""Who is acting: the signed-in member, typed as one; and signing in, throttled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from core.members.models import Member


def acting_member(request: HttpRequest | Request) -> Member:
    """The signed-in member behind `login_required` or `IsAuthenticated`.

    Refuses (403) anything else, so a view wired without its guard fails closed.
    """
    from core.members.models import Member

    user = request.user
    if not isinstance(user, Member) or not user.is_authenticated:
        raise PermissionDenied
    return user


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing further attempts for `window` seconds once any of
    `throttle_keys()` has counted `limit` failures. Counts live in the cache, whose keys
    carry the schema, so a lockout in one network never reaches another or the public site.
    Subclasses name the keys and the `throttled` message."""

    limit, window = 5, 15 * 60
    forget_on_success = False  # whether a successful sign-in clears the counts

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Accounts are named by email address (theming/sign_in.html renders these fields).
        username = self.fields["username"]
        username.label = "Email address"
        username.widget = forms.EmailInput(
            attrs={
                **username.widget.attrs,  # maxlength, from the model field
                "autocomplete": "email",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        )
        username.widget.attrs.pop("autofocus", None)

    def throttle_keys(self) -> list[str]:
        raise NotImplementedError

    def _attempt(self) -> tuple[str, str]:
        email = str(self.data.get("username", "")).strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "") if self.request is not None else ""
        return email, address

    def clean(self) -> dict[str, Any]:
        keys = self.throttle_keys()
        if any(cache.get(key, 0) >= self.limit for key in keys):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            for key in keys:
                cache.add(key, 0, self.window)
                cache.incr(key)
            raise
        if self.forget_on_success:
            cache.delete_many(keys)
        return cleaned
