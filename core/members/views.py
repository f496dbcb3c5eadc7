from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.members.auth import ThrottledAuthenticationForm, acting_member, sign_in_identity
from core.sso.selectors import sso_settings
from kernel.errors import ApplicationError, NotFound
from kernel.forms import refusal_show
from tenants.plans import network_full_message
from tenants.selectors import network_current

from .models import (
    BIO_MAX,
    ContactFormat,
    JoinPolicy,
    Member,
    MemberState,
    Profession,
    ProfileVisibility,
    Role,
)
from .places import plan_usage
from .selectors import (
    approval_queue,
    invitation_list,
    member_api_tokens,
    member_list,
)
from .services import (
    PROFILE_FIELDS,
    InvitationsSent,
    access_member,
    api_token_create,
    api_token_revoke,
    invitation_accept,
    invitation_from_token,
    invitation_resend,
    invitation_revoke,
    invitations_csv_read,
    invitations_send,
    join_settings_get,
    join_settings_set,
    member_approve,
    member_block,
    member_deactivate,
    member_decline,
    member_join,
    member_profile_update,
    member_reactivate,
    member_set_role,
    member_unblock,
    member_verify_email,
    verification_resend,
)
from .skills import CURATED_SKILLS, SKILL_CHOICES
from .throttles import JoinThrottled, join_throttle

if TYPE_CHECKING:
    from django.forms.utils import _DataT, _FilesT

JOIN_EMAIL_SESSION_KEY = "join_email"


class JoinForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    email = forms.EmailField(
        label=gettext_lazy("Work email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Choose a password"),
        help_text=gettext_lazy("At least 8 characters; not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    profession = forms.ChoiceField(
        label=gettext_lazy("Profession (optional)"),
        required=False,
        choices=[("", "Choose…"), *Profession.choices],
    )
    organisation = forms.CharField(
        label=gettext_lazy("Organisation (optional)"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


def join(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = JoinForm(request.POST or None)
    status = 200
    sso = sso_settings()
    if request.method == "POST" and sso is not None and not sso.password_sign_in:
        return redirect("sso-start")  # this network has no passwords to choose
    if request.method == "POST" and form.is_valid():
        try:
            join_throttle(request)
            member_join(**form.cleaned_data)
        except ApplicationError as refused:
            refusal_show(form, refused)
            status = refused.status_code if isinstance(refused, JoinThrottled) else 200
        else:
            # The same answer whether the address was new or already here (member_join).
            request.session[JOIN_EMAIL_SESSION_KEY] = form.cleaned_data["email"].strip().lower()
            return redirect("join-check-email")
    usage = plan_usage(network=network_current())
    full = (
        network_full_message(network_current(), usage.member_limit)
        if usage.full and usage.member_limit is not None
        else ""
    )
    context = {"form": form, "settings": join_settings_get(), "full": full, "sso": sso}
    return render(request, "members/join.html", context, status=status)


def join_check_email(request: HttpRequest) -> HttpResponse:
    """After asking to join (signed out: the address asked with), or for a signed-in
    member who has not verified yet (with a button to send the link again)."""
    if not request.user.is_authenticated:
        email = request.session.get(JOIN_EMAIL_SESSION_KEY)
        if not email:
            return redirect("join")
        return render(request, "members/check_email.html", {"email": email})
    member = acting_member(request)
    if request.method == "POST":
        verification_resend(actor=member)
        messages.success(
            request, _("We have sent a new link to %(email)s.") % {"email": member.email}
        )
        return redirect("join-check-email")
    return render(request, "members/check_email.html", {"member": member, "email": member.email})


def join_verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        member = member_verify_email(token=token)
    except ApplicationError as refused:
        return render(
            request, "members/verify_failed.html", {"message": refused.message}, status=400
        )
    if member.state == MemberState.AWAITING_APPROVAL:
        messages.info(
            request,
            _("Thank you: your email is confirmed. An organiser will review your request to join."),
        )
    else:
        messages.success(
            request, _("Your email is confirmed. Welcome! Two hours of credit are in your account.")
        )
    if not request.user.is_authenticated:
        return redirect_to_login("/")
    return redirect("home")


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (the person will see it)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@permission_required("members.approve_member", raise_exception=True)
def approvals(request: HttpRequest) -> HttpResponse:
    usage = plan_usage(network=network_current())
    return render(
        request, "members/approvals.html", {"queue": approval_queue(), "plan_usage": usage}
    )


def _target(request: HttpRequest, member_id: int) -> Member:
    try:
        return access_member(member_id, member=acting_member(request))
    except NotFound:
        raise Http404("No such member") from None


@require_POST
@permission_required("members.approve_member", raise_exception=True)
def approve(request: HttpRequest, member_id: int) -> HttpResponse:
    try:
        member = member_approve(actor=acting_member(request), member=_target(request, member_id))
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("%(name)s is now a member.") % {"name": member})
    return redirect("member-approvals")


@require_POST
@permission_required("members.approve_member", raise_exception=True)
def decline(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _target(request, member_id)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            member_decline(actor=acting_member(request), member=member, **form.cleaned_data)
        except ApplicationError as refused:
            form.add_error("reason", refused.message)
        else:
            messages.success(
                request, _("You declined %(name)s's request to join.") % {"name": member}
            )
            return redirect("member-approvals")
    return render(request, "members/decline.html", {"form": form, "member": member}, status=400)


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
    member = _target(request, member_id)
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
        member = member_deactivate(actor=acting_member(request), member=_target(request, member_id))
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
        member = member_reactivate(actor=acting_member(request), member=_target(request, member_id))
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("%(name)s can sign in again.") % {"name": member})
    return redirect("member-roles")


class InviteAddressesForm(forms.Form):
    emails = forms.CharField(
        label=gettext_lazy("Email addresses"),
        max_length=50_000,
        help_text=gettext_lazy("One per line, or separated by commas."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Their role"), choices=Role.choices, initial=Role.MEMBER
    )


class InviteCsvForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "Columns: name, email and, if you like, role (member, QI lead or "
            "organiser). A header row is optional. Up to 500 people and 1 MB."
        ),
    )


def _invitations_sent_message(sent: InvitationsSent) -> str:
    count = len(sent.invited)
    parts = [f"Invited {count} {'person' if count == 1 else 'people'}."]
    if sent.resent:
        parts.append(f"Sent {len(sent.resent)} invitation(s) again with a new link.")
    if sent.already_members:
        parts.append(
            f"Skipped {len(sent.already_members)}: {len(sent.already_members)} already a member."
        )
    return " ".join(parts)


@permission_required("members.approve_member", raise_exception=True)
def invitations(request: HttpRequest) -> HttpResponse:
    """Invite people by address or CSV; the invitations waiting, to resend or revoke."""
    actor = acting_member(request)
    action = request.POST.get("action") if request.method == "POST" else None
    addresses = InviteAddressesForm(request.POST if action == "addresses" else None)
    upload = InviteCsvForm(
        request.POST if action == "csv" else None, request.FILES if action == "csv" else None
    )
    form: forms.Form | None = {"addresses": addresses, "csv": upload}.get(action or "")
    if form is not None and form.is_valid():
        try:
            if form is addresses:
                role = addresses.cleaned_data["role"]
                people = [
                    ("", email, role)
                    for email in addresses.cleaned_data["emails"]
                    .replace(",", " ")
                    .replace(";", " ")
                    .split()
                ]
            else:
                people = invitations_csv_read(upload.cleaned_data["file"])
            sent = invitations_send(actor=actor, people=people)
        except ApplicationError as refused:
            refusal_show(form, refused)
        else:
            messages.success(request, _invitations_sent_message(sent))
            return redirect("member-invitations")
    context = {"addresses": addresses, "upload": upload, "pending": invitation_list()}
    return render(request, "members/invitations.html", context)


@require_POST
@permission_required("members.approve_member", raise_exception=True)
def invitation_action(request: HttpRequest, invitation_id: int, action: str) -> HttpResponse:
    actor = acting_member(request)
    try:
        if action == "resend":
            invitation = invitation_resend(actor=actor, invitation_id=invitation_id)
            messages.success(
                request,
                _("The invitation to %(email)s was sent again with a new link.")
                % {"email": invitation.email},
            )
        elif action == "revoke":
            invitation_revoke(actor=actor, invitation_id=invitation_id)
            messages.success(request, _("The invitation is withdrawn: its link no longer works."))
        else:
            raise Http404("No such action")
    except NotFound:
        raise Http404("No such invitation") from None
    except ApplicationError as refused:
        messages.error(request, refused.message)
    return redirect("member-invitations")


class InvitedJoinForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    password = forms.CharField(
        label=gettext_lazy("Choose a password"),
        help_text=gettext_lazy("At least 8 characters; not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


def join_invited(request: HttpRequest, token: str) -> HttpResponse:
    """Join in one step through an invitation's link, whatever the join policy."""
    try:
        invitation = invitation_from_token(token)
    except ApplicationError as refused:
        return render(
            request, "members/invitation_failed.html", {"message": refused.message}, status=400
        )
    form = InvitedJoinForm(request.POST or None, initial={"full_name": invitation.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            member = invitation_accept(token=token, **form.cleaned_data)
        except ApplicationError as refused:
            refusal_show(form, refused)
        else:
            login(request, member, backend="core.members.backends.MemberBackend")
            messages.success(request, _("Welcome! Two hours of credit are in your account."))
            return redirect("home")
    return render(request, "members/join_invited.html", {"form": form, "invitation": invitation})


class JoinSettingsForm(forms.Form):
    policy = forms.ChoiceField(
        label=gettext_lazy("Who can join?"), choices=JoinPolicy.choices, widget=forms.RadioSelect
    )
    allowed_domains = forms.CharField(
        label=gettext_lazy("Allowed email domains"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy(
            "One per line or separated by commas, e.g. nhs.net. Used by the email domain policy."
        ),
    )


@permission_required("members.approve_member", raise_exception=True)
def join_settings(request: HttpRequest) -> HttpResponse:
    current = join_settings_get()
    initial = {"policy": current.policy, "allowed_domains": "\n".join(current.allowed_domains)}
    form = JoinSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        domains = form.cleaned_data["allowed_domains"].replace(",", "\n").split()
        try:
            join_settings_set(
                actor=acting_member(request),
                policy=form.cleaned_data["policy"],
                allowed_domains=domains,
            )
        except ApplicationError as refused:
            refusal_show(form, refused)
        else:
            messages.success(request, _("Joining settings saved."))
            return redirect("join-settings")
    return render(request, "members/join_settings.html", {"form": form})


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
    member = _target(request, member_id)
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
    member = _target(request, member_id)
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
