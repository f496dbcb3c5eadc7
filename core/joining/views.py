"""Pages of joining: the join form and its email check, verification links, joining
through an invitation, and the organisers' approvals, invitations and join settings."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.members.auth import acting_member
from core.members.models import JoinPolicy, MemberState, Profession, Role
from core.members.places import plan_usage
from core.members.selectors import approval_queue, invitation_list
from core.members.throttles import JoinThrottled, join_throttle
from core.members.views import member_or_404
from kernel.errors import ApplicationError, NotFound
from kernel.forms import refusal_show
from tenants.plans import network_full_message
from tenants.selectors import network_current

from .services import (
    InvitationsSent,
    invitation_accept,
    invitation_from_token,
    invitation_resend,
    invitation_revoke,
    invitations_csv_read,
    invitations_send,
    join_settings_get,
    join_settings_set,
    member_approve,
    member_decline,
    member_join,
    member_verify_email,
    verification_resend,
)
from .sign_in import network_provider

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
    sso = network_provider()
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
    return render(request, "joining/join.html", context, status=status)


def join_check_email(request: HttpRequest) -> HttpResponse:
    """After asking to join (signed out: the address asked with), or for a signed-in
    member who has not verified yet (with a button to send the link again)."""
    if not request.user.is_authenticated:
        email = request.session.get(JOIN_EMAIL_SESSION_KEY)
        if not email:
            return redirect("join")
        return render(request, "joining/check_email.html", {"email": email})
    member = acting_member(request)
    if request.method == "POST":
        verification_resend(actor=member)
        messages.success(
            request, _("We have sent a new link to %(email)s.") % {"email": member.email}
        )
        return redirect("join-check-email")
    return render(request, "joining/check_email.html", {"member": member, "email": member.email})


def join_verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        member = member_verify_email(token=token)
    except ApplicationError as refused:
        return render(
            request, "joining/verify_failed.html", {"message": refused.message}, status=400
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
        request, "joining/approvals.html", {"queue": approval_queue(), "plan_usage": usage}
    )


@require_POST
@permission_required("members.approve_member", raise_exception=True)
def approve(request: HttpRequest, member_id: int) -> HttpResponse:
    try:
        member = member_approve(
            actor=acting_member(request), member=member_or_404(request, member_id)
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("%(name)s is now a member.") % {"name": member})
    return redirect("member-approvals")


@require_POST
@permission_required("members.approve_member", raise_exception=True)
def decline(request: HttpRequest, member_id: int) -> HttpResponse:
    member = member_or_404(request, member_id)
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
    return render(request, "joining/decline.html", {"form": form, "member": member}, status=400)


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
    return render(request, "joining/invitations.html", context)


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
            request, "joining/invitation_failed.html", {"message": refused.message}, status=400
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
    return render(request, "joining/join_invited.html", {"form": form, "invitation": invitation})


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
    return render(request, "joining/join_settings.html", {"form": form})
