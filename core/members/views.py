from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from hexitime.auth import acting_member
from hexitime.errors import ApplicationError, NotFound
from ledger.selectors import member_balance, member_statement

from .models import CURATED_SKILLS, OPTIONAL_PROFILE_FIELDS, ContactFormat, Member, Profession
from .selectors import access_member, member_directory, profile_view
from .services import (
    join_policy,
    member_approve,
    member_decline,
    member_join,
    member_role_set,
    member_verify_email,
    profile_update,
)


def network_home(request: HttpRequest) -> HttpResponse:
    """A network's front page: its own welcome for visitors, and for a signed-in member
    their home (credit, recent activity, what to do next)."""
    context: dict[str, object] = {}
    if request.user.is_authenticated:
        member = acting_member(request)
        context = {
            "balance": member_balance(member=member),
            "recent": member_statement(member=member, limit=3),
        }
    return render(request, "members/network_home.html", context)


class JoinForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(label="Work email address")
    profession = forms.ChoiceField(
        label="Profession", choices=[("", "Choose…"), *Profession.choices], required=False
    )
    organisation = forms.CharField(label="Organisation", max_length=150, required=False)
    password = forms.CharField(label="Choose a password", widget=forms.PasswordInput)


def join_page(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = member_join(**form.cleaned_data)
        except ApplicationError as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            return render(request, "members/join_done.html", {"member": member})
    return render(request, "members/join.html", {"form": form, "policy": join_policy()})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        member = member_verify_email(token=token)
    except ApplicationError as refused:
        return render(
            request, "members/verify_failed.html", {"message": refused.message}, status=400
        )
    messages.success(request, "Your email address is confirmed." + (
        " Two hours of credit are in your account." if member.can_transact else
        " An organiser will look at your request soon."
    ))  # fmt: skip
    return redirect("home")


def _member_id(request: HttpRequest) -> int:
    value = request.POST.get("member", "")
    return int(value) if value.isdigit() else 0


def _organiser(request: HttpRequest) -> Member:
    member = acting_member(request)
    if member.role != Member.Role.ORGANISER:
        raise PermissionDenied
    return member


@login_required
def approvals_page(request: HttpRequest) -> HttpResponse:
    organiser = _organiser(request)
    if request.method == "POST":
        member = Member.objects.filter(pk=_member_id(request), approval="pending").first()
        if member is not None:
            try:
                if request.POST.get("decision") == "approve":
                    member_approve(actor=organiser, member=member)
                    messages.success(request, f"{member.full_name} can now take part.")
                else:
                    member_decline(
                        actor=organiser, member=member, reason=request.POST.get("reason", "")
                    )
                    messages.success(request, f"{member.full_name}'s request was declined.")
            except ApplicationError as refused:
                messages.error(request, refused.message)
        return redirect("approvals")
    pending = Member.objects.filter(approval=Member.Approval.PENDING).order_by("date_joined")
    return render(request, "members/approvals.html", {"pending": pending})


@login_required
def roles_page(request: HttpRequest) -> HttpResponse:
    organiser = _organiser(request)
    if request.method == "POST":
        member = Member.objects.filter(pk=_member_id(request)).first()
        if member is not None:
            try:
                member_role_set(actor=organiser, member=member, role=request.POST.get("role", ""))
                messages.success(request, f"{member.full_name} is now {member.get_role_display()}.")
            except ApplicationError as refused:
                messages.error(request, refused.message)
        return redirect("roles")
    return render(request, "members/roles.html", {
        "members": Member.objects.filter(approval=Member.Approval.APPROVED).order_by("full_name"),
        "roles": Member.Role.choices,
    })  # fmt: skip


class ThrottledLoginView(LoginView):
    """Django's login, refusing an address (in this network, from this IP) for 15 minutes
    after 5 failed attempts. Counts live in the cache, whose keys carry the network."""

    limit, window = 5, 15 * 60

    def _key(self) -> str:
        email = self.request.POST.get("username", "").strip().lower()
        return f"login-failures:{email}:{self.request.META.get('REMOTE_ADDR', '')}"

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if cache.get(self._key(), 0) >= self.limit:
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                "Too many attempts to sign in. Please wait 15 minutes, or reset your password.",
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        key = self._key()
        cache.add(key, 0, self.window)
        cache.incr(key)
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        cache.delete(self._key())
        return super().form_valid(form)


FIELD_LABELS = {"role_grade": "Role and grade", "organisation": "Organisation", "bio": "About me",
                "photo": "Photo", "availability": "Availability",
                "preferred_formats": "Preferred formats", "location": "Location"}  # fmt: skip


class ProfileForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150)
    profession = forms.ChoiceField(
        label="Profession", choices=[("", "Choose…"), *Profession.choices], required=False
    )
    role_grade = forms.CharField(
        label="Role and grade", max_length=120, required=False,
        help_text="For example: Ward sister, Band 7",
    )  # fmt: skip
    organisation = forms.CharField(label="Organisation", max_length=150, required=False)
    skills = forms.MultipleChoiceField(
        label="Skills", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(s, s.capitalize()) for s in CURATED_SKILLS],
    )  # fmt: skip
    other_skills = forms.CharField(
        label="Other skills", required=False, max_length=500,
        help_text="Separate skills with commas, for example: sepsis screening, dementia care",
    )  # fmt: skip
    bio = forms.CharField(
        label="About me", required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Plain text, up to 2,000 characters.",
    )  # fmt: skip
    photo = forms.FileField(label="Photo", required=False,
                            help_text="JPEG, PNG or WebP, up to 2 MB.")  # fmt: skip
    remove_photo = forms.BooleanField(label="Remove my photo", required=False)
    availability = forms.CharField(
        label="Availability", max_length=200, required=False,
        help_text="For example: Tuesday afternoons, not on nights",
    )  # fmt: skip
    preferred_formats = forms.MultipleChoiceField(
        label="Preferred formats", required=False, choices=ContactFormat.choices,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    location = forms.CharField(label="Location", max_length=120, required=False)
    shown_fields = forms.MultipleChoiceField(
        label="What other members can see", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(name, FIELD_LABELS[name]) for name in OPTIONAL_PROFILE_FIELDS],
        help_text="Your name, profession and skills are always shown.",
    )  # fmt: skip


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    curated = set(CURATED_SKILLS)
    initial = {
        **{name: getattr(member, name) for name in (
            "full_name", "profession", "role_grade", "organisation", "bio", "availability",
            "preferred_formats", "location")},
        "shown_fields": member.visible_fields,
        "skills": [s for s in member.skills if s in curated],
        "other_skills": ", ".join(s for s in member.skills if s not in curated),
    }  # fmt: skip
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["skills"] = [*data["skills"], *data.pop("other_skills").split(",")]
        data["visible_fields"] = data.pop("shown_fields")
        if not data["photo"]:
            data.pop("photo")
        try:
            profile_update(actor=member, **data)
        except ApplicationError as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("member-detail", member_id=member.pk)
    return render(request, "members/profile_form.html", {"form": form, "member": member})


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    skill = request.GET.get("skill", "")
    profession = request.GET.get("profession", "")
    members = member_directory(skill=skill, profession=profession)
    page = Paginator(members, 24).get_page(request.GET.get("page"))
    return render(request, "members/directory.html", {
        "page": page, "skill": skill, "profession": profession,
        "professions": Profession.choices, "curated": CURATED_SKILLS,
    })  # fmt: skip


@login_required
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    viewer = acting_member(request)
    try:
        subject = access_member(member_id, member=viewer)
    except NotFound:
        raise Http404 from None
    profile = profile_view(subject=subject, viewer=viewer)
    return render(request, "members/profile.html", {
        "profile": profile, "is_me": subject.pk == viewer.pk,
        "formats": [label for value, label in ContactFormat.choices
                    if value in (profile.get("preferred_formats") or [])],
    })  # fmt: skip
