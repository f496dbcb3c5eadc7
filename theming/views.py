from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from hexitime.auth import acting_member

from .contrast import HEX_COLOUR
from .models import Theme
from .selectors import theme_for
from .services import ThemeRefused, colour_report, theme_update

YEAR = 365 * 24 * 3600


@require_GET
def theme_stylesheet(request: HttpRequest, version: int) -> HttpResponse:
    """The network's colours as CSS custom properties. Each version's URL is cached for a
    year; a page always names the current version, so a change shows at once."""
    theme = theme_for(request.tenant)  # type: ignore[attr-defined]
    if version != theme.version:
        return redirect("theme-css", version=theme.version)
    css = render_to_string("theming/theme.css", {"theme": theme})
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


@require_GET
def theme_image(request: HttpRequest, kind: str, version: int) -> FileResponse:
    """The network's logo or favicon, at the theme version that pages name."""
    theme = theme_for(request.tenant)  # type: ignore[attr-defined]
    image = theme.logo if kind == "logo" else theme.favicon
    if not image or version != theme.version:
        raise Http404(f"No {kind}")
    svg = (image.name or "").endswith(".svg")
    response = FileResponse(image.open("rb"), content_type="image/svg+xml" if svg else "image/png")
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    # Belt and braces for SVG: even if something slipped past validation, nothing runs.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class BrandingForm(forms.Form):
    primary_colour = forms.CharField(label=_("Main colour (header and links)"), max_length=7)
    accent_colour = forms.CharField(label=_("Button colour"), max_length=7)
    welcome_headline = forms.CharField(label=_("Welcome headline"), max_length=120, required=False)
    welcome_text = forms.CharField(
        label=_("Welcome text"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    footer_links = forms.CharField(
        label=_("Footer links"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: label | https://address (up to five)."),
    )  # fmt: skip
    logo = forms.FileField(label=_("Logo (PNG or SVG, up to 200 KB)"), required=False)
    remove_logo = forms.BooleanField(label=_("Remove the current logo"), required=False)
    favicon = forms.FileField(
        label=_("Browser tab icon (PNG or SVG, up to 50 KB)"), required=False,
        help_text=_("A small square image shown in browser tabs and bookmarks."),
    )  # fmt: skip
    remove_favicon = forms.BooleanField(label=_("Remove the current tab icon"), required=False)
    default_language = forms.ChoiceField(
        label=_("Language for visitors who have not chosen one"), choices=settings.LANGUAGES,
        help_text=_("Members can still pick their own language at the foot of every page."),
        required=False,
    )  # fmt: skip

    def clean_default_language(self) -> str | None:
        return self.cleaned_data["default_language"] or None  # not sent: unchanged

    def clean_footer_links(self) -> list[dict[str, str]]:
        links = []
        for line in self.cleaned_data["footer_links"].splitlines():
            if line.strip():
                label, _, url = line.partition("|")
                links.append({"label": label.strip(), "url": url.strip()})
        return links


@login_required
@permission_required("theming.change_theme", raise_exception=True)
def branding_page(request: HttpRequest) -> HttpResponse:
    network = request.tenant  # type: ignore[attr-defined]
    theme = theme_for(network)
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                theme_update(network=network, actor=acting_member(request), **form.cleaned_data)
            except ThemeRefused as refused:
                form.add_error(refused.field, refused.message)
            else:
                messages.success(request, "Your network's branding is saved.")
                return redirect(reverse("branding"))
    else:
        links = "\n".join(f"{link['label']} | {link['url']}" for link in theme.footer_links)
        form = BrandingForm(initial={
            "primary_colour": theme.primary_colour, "accent_colour": theme.accent_colour,
            "welcome_headline": theme.welcome_headline, "welcome_text": theme.welcome_text,
            "footer_links": links, "default_language": theme.default_language,
        })  # fmt: skip
    return render(request, "theming/branding.html", {"form": form, **_preview(form, theme)})


def _preview(form: BrandingForm, theme: Theme) -> dict[str, object]:
    """The colours to preview (what is typed, if it is a colour at all) and what the
    saving rule says about them."""
    primary = (form["primary_colour"].value() or "").strip()
    accent = (form["accent_colour"].value() or "").strip()
    return {
        "current": theme,
        "preview_primary": primary if HEX_COLOUR.match(primary) else theme.primary_colour,
        "preview_accent": accent if HEX_COLOUR.match(accent) else theme.accent_colour,
        "colour_problems": colour_report(primary_colour=primary, accent_colour=accent),
    }


# Same gate as the page: the preview shows nothing the page would not.
@login_required
@permission_required("theming.change_theme", raise_exception=True)
@require_POST
def branding_preview(request: HttpRequest) -> HttpResponse:
    """The preview panel for the colours being typed, measured by the same rule that
    saving applies (htmx swaps it in; without JavaScript the saved colours show)."""
    theme = theme_for(request.tenant)  # type: ignore[attr-defined]
    form = BrandingForm(request.POST)
    return render(request, "theming/preview.html", _preview(form, theme))
