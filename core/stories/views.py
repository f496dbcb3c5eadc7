"""Pages: write a story after an exchange, your stories, and the organisers' list."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.members.auth import acting_member
from kernel.errors import NotFound, PermissionDenied

from .models import TEXT_LIMIT
from .selectors import access_story, stories_mine, stories_submitted, story_for
from .services import StoryRefused, story_pick, story_withdraw, story_write
from .sources import SOURCES


class StoryForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("What changed for your patients or your team?"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "A few sentences. Leave out anything that could identify a patient."
        ),
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "I agree that organisers may publish this story on the network's "
            "impact page and its public home page"
        ),
        required=False,
    )
    show_name = forms.BooleanField(label=gettext_lazy("Show my name with it"), required=False)


class PickForm(forms.Form):
    on_impact = forms.BooleanField(label=gettext_lazy("On the impact page"), required=False)
    on_home = forms.BooleanField(label=gettext_lazy("On the public home page"), required=False)


@login_required
def story_new(request: HttpRequest, source: str, source_id: int) -> HttpResponse:
    member = acting_member(request)
    find = SOURCES.get(source)
    subject = find(member, source_id) if find is not None else None
    if subject is None:
        raise Http404("Nothing to tell a story about")
    story = story_for(member=member, source=source, source_id=source_id)
    if request.method == "POST":
        form = StoryForm(request.POST)
        if form.is_valid():
            try:
                story_write(actor=member, source=source, source_id=source_id, **form.cleaned_data)
            except StoryRefused as refused:
                form.add_error("text", refused.message)
            else:
                messages.success(request, _("Thank you: your story is saved."))
                return redirect("stories-mine")
    else:
        initial = (
            {"text": story.text, "consent": story.consent, "show_name": story.show_name}
            if story is not None and story.withdrawn_at is None
            else {}
        )
        form = StoryForm(initial=initial)
    return render(request, "stories/new.html", {"form": form, "subject": subject})


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return render(
        request, "stories/mine.html", {"stories": stories_mine(member=acting_member(request))}
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, story_id: int) -> HttpResponse:
    member = acting_member(request)
    try:
        story_withdraw(actor=member, story=access_story(story_id, member=member))
    except NotFound:
        raise Http404("No such story") from None
    messages.success(request, _("Your story is withdrawn: it no longer appears anywhere."))
    return redirect("stories-mine")


@login_required
def organiser(request: HttpRequest) -> HttpResponse:
    try:  # an organiser's page: forbidden (403) to others (docs/architecture.md)
        submitted = stories_submitted(actor=acting_member(request))
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    stories = [
        (
            story,
            PickForm(
                initial={"on_impact": story.on_impact, "on_home": story.on_home},
                prefix=f"s{story.pk}",
            ),
        )
        for story in submitted
    ]
    return render(request, "stories/organiser.html", {"stories": stories})


@login_required
@permission_required("stories.pick_story", raise_exception=True)
@require_POST
def pick(request: HttpRequest, story_id: int) -> HttpResponse:
    member = acting_member(request)
    try:
        story = access_story(story_id, member=member)
    except NotFound:
        raise Http404("No such story") from None
    form = PickForm(request.POST, prefix=f"s{story.pk}")
    if form.is_valid():
        try:
            story_pick(actor=member, story=story, **form.cleaned_data)
        except StoryRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request, _("Saved where “%(subject)s” appears.") % {"subject": story.subject}
            )
    return redirect("stories-organiser")
