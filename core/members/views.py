from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.members.auth import ThrottledAuthenticationForm, acting_member, sign_in_identity
from kernel.errors import ApplicationError, NotFound
from kernel.forms import refusal_show
from tenants.selectors import network_current

from .models import (
    BIO_MAX,
    ContactFormat,
    Member,
    MemberState,
    Profession,
    ProfileVisibility,
    Role,
)
from .places import plan_usage
from .selectors import (
    member_api_tokens,
    member_list,
)
from .services import (
    PROFILE_FIELDS,
    access_member,
    api_token_create,
    api_token_revoke,
    member_block,
    member_deactivate,
    member_profile_update,
    member_reactivate,
    member_set_role,
    member_unblock,
)
from .skills import CURATED_SKILLS, SKILL_CHOICES

if TYPE_CHECKING:
    from django.forms.utils import _DataT, _FilesT


def member_or_404(request: HttpRequest, member_id: int) -> Member:
    """The member of this network an organiser's page is about, or 404 (access_member)."""
    try:
        return access_member(member_id, member=acting_member(request))
    except NotFound:
        raise Http404("No such member") from None


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)


@permission_required("members.change_role", raise_exception=True)
def roles(request: HttpRequest) -> HttpResponse:
    """The members page: search, roles, deactivating and reactivating."""
    search = request.GET.get("q", "")[:150]
    context = {
        "members": member_list(search=search),
        "search": search,
        "roles": Role.choices,
        "plan_usage": plan_usage(network=network_current()),
    }
    return render(request, "members/roles.html", context)


@require_POST
@permission_required("members.change_role", raise_exception=True)
def role_change(request: HttpRequest, member_id: int) -> HttpResponse:
    member = member_or_404(request, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose member, QI lead or organiser."))
        return redirect("member-roles")
    try:
        member = member_set_role(actor=acting_member(request), member=member, **form.cleaned_data)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s.") % {"name": member, "role": member.get_role_display()},
        )
    return redirect("member-roles")


@require_POST
@permission_required("members.approve_member", raise_exception=True)
def deactivate(request: HttpRequest, member_id: int) -> HttpResponse:
    try:
        member = member_deactivate(
            actor=acting_member(request), member=member_or_404(request, member_id)
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("%(name)s's account is deactivated: they cannot sign in until you reactivate it.")
            % {"name": member},
        )
    return redirect("member-roles")


@require_POST
@permission_required("members.approve_member", raise_exception=True)
def reactivate(request: HttpRequest, member_id: int) -> HttpResponse:
    try:
        member = member_reactivate(
            actor=acting_member(request), member=member_or_404(request, member_id)
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("%(name)s can sign in again.") % {"name": member})
    return redirect("member-roles")


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    profession = forms.ChoiceField(
        label=gettext_lazy("Profession"),
        required=False,
        choices=[("", "Choose…"), *Profession.choices],
    )
    job_title = forms.CharField(
        label=gettext_lazy("Role and grade"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("For example: Band 6 staff nurse, ST4 registrar."),
    )
    organisation = forms.CharField(
        label=gettext_lazy("Organisation"), max_length=150, required=False
    )
    curated_skills = forms.MultipleChoiceField(
        label=gettext_lazy("Skills"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=SKILL_CHOICES,
    )
    other_skills = forms.CharField(
        label=gettext_lazy("Other skills"),
        max_length=600,
        required=False,
        help_text=gettext_lazy("Separate them with commas."),
    )
    bio = forms.CharField(
        label=gettext_lazy("About you"),
        max_length=BIO_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Plain text: what you can help with, and what you want to learn."),
    )
    availability = forms.CharField(
        label=gettext_lazy("When you are available"), max_length=200, required=False
    )
    preferred_formats = forms.MultipleChoiceField(
        label=gettext_lazy("How you like to meet"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=ContactFormat.choices,
    )
    location = forms.CharField(label=gettext_lazy("Location"), max_length=120, required=False)
    profile_visibility = forms.ChoiceField(
        label=gettext_lazy("Who sees your profile?"),
        choices=ProfileVisibility.choices,
        widget=forms.RadioSelect,
    )
    show_on_map = forms.BooleanField(
        label=gettext_lazy("Show my name on the network map"),
        required=False,
        help_text=gettext_lazy(
            "If you untick this, the map shows you as “A member”, without your name, "
            "profession or organisation."
        ),
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo"),
        required=False,
        help_text=gettext_lazy("A JPEG, PNG or WebP image, up to 2 MB."),
    )
    remove_photo = forms.BooleanField(label=gettext_lazy("Remove my photo"), required=False)

    @classmethod
    def for_member(
        cls, member: Member, data: _DataT | None = None, files: _FilesT | None = None
    ) -> ProfileForm:
        curated = [s for s in member.skills if s in CURATED_SKILLS]
        other = [s for s in member.skills if s not in CURATED_SKILLS]
        initial = {
            name: getattr(member, name)
            for name in PROFILE_FIELDS
            if name not in ("skills", "photo", "remove_photo")
        }
        return cls(
            data,
            files,
            initial={**initial, "curated_skills": curated, "other_skills": ", ".join(other)},
        )

    def profile_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        other = [tag for tag in data.pop("other_skills").split(",") if tag.strip()]
        data["skills"] = [*data.pop("curated_skills"), *other]
        if not data["photo"]:
            del data["photo"]
        return data


@login_required
@require_POST
def block(request: HttpRequest, member_id: int) -> HttpResponse:
    """Block a member from their profile page (undone by `unblock`)."""
    member = member_or_404(request, member_id)
    try:
        member_block(actor=acting_member(request), member=member)
    except NotFound:
        raise Http404("No such member") from None
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _(
                "You blocked %(name)s. Neither of you can respond to the other's listings, send "
                "the other messages or book the other's sessions, and you no longer see each "
                "other's listings. They are not told."
            )
            % {"name": member.full_name},
        )
    return redirect("member-profile", member_id=member.pk)


@login_required
@require_POST
def unblock(request: HttpRequest, member_id: int) -> HttpResponse:
    member = member_or_404(request, member_id)
    member_unblock(actor=acting_member(request), member=member)
    messages.success(request, _("You unblocked %(name)s.") % {"name": member.full_name})
    return redirect("member-profile", member_id=member.pk)


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    form = ProfileForm.for_member(member, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            member_profile_update(actor=member, **form.profile_fields())
        except ApplicationError as refused:
            refusal_show(form, refused, fields={"skills": "other_skills"})
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("member-profile", member_id=member.pk)
    return render(request, "members/profile_edit.html", {"form": form})


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=80,
        help_text=gettext_lazy("What will use it, e.g. “rota sync script”."),
    )


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The member's API tokens: make one (its secret shown on this response only, never
    stored or sent again), see when each was last used, revoke them."""
    member = acting_member(request)
    form = ApiTokenForm(request.POST or None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        try:
            _token, secret = api_token_create(actor=member, name=form.cleaned_data["name"])
        except ApplicationError as refused:
            form.add_error("name", refused.message)
        else:
            form = ApiTokenForm()
    response = render(
        request,
        "members/api_tokens.html",
        {
            "form": form,
            "secret": secret,
            "tokens": member_api_tokens(member=member),
        },
    )
    response["Cache-Control"] = "no-store"  # the page may hold a secret
    return response


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        api_token_revoke(actor=acting_member(request), token_id=token_id)
    except NotFound:
        raise Http404("No such token") from None
    messages.success(request, _("The token is revoked. Anything using it can no longer sign in."))
    return redirect("api-tokens")


class MemberLoginForm(ThrottledAuthenticationForm):
    """A network's sign-in: an address is refused from one client for 15 minutes after 5
    failures there; signing in successfully clears the count (settings/security.py)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": (
            "Too many attempts to sign in. Please wait 15 minutes, or reset your password."
        ),
    }

    def get_invalid_login_error(self) -> ValidationError:
        """Someone whose request to join was declined, or whose account an organiser
        deactivated, with their own password, is told so (and a declined person why);
        anyone else gets Django's message, which says nothing of the account."""
        email = sign_in_identity(self.request, None) if self.request else ""
        stopped = Member.objects.filter(
            email=email, state__in=[MemberState.DECLINED, MemberState.DEACTIVATED]
        ).first()
        if stopped is None or not stopped.check_password(self.data.get("password", "")):
            return super().get_invalid_login_error()
        network = network_current().name
        if stopped.state == MemberState.DEACTIVATED:
            return ValidationError(
                f"Your account in {network} has been deactivated by an organiser, so you "
                "cannot sign in. Your profile and credit are kept: ask one of its organisers "
                "if you think this is a mistake.",
                code="deactivated",
            )
        return ValidationError(
            f"Your request to join {network} was declined. The organiser said: "
            f"“{stopped.declined_reason}”",
            code="declined",
        )


class ThrottledLoginView(LoginView):
    """Django's login with MemberLoginForm; a locked-out attempt answers 429
    (core.members.auth.lockout_response)."""

    form_class = MemberLoginForm
