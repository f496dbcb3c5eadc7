from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.members.auth import acting_member
from kernel.forms import refusal_show
from tenants.selectors import network_current

from .contrast import HEX_COLOUR
from .icons import BACKGROUND, SIZES, icon_png
from .models import Compliance, Enforcer, Theme
from .selectors import (
    accessibility_statement_for,
    accessibility_statement_shown,
    theme_for,
)
from .services import (
    StatementRefused,
    ThemeRefused,
    accessibility_statement_update,
    colour_report,
    theme_update,
)

YEAR = 365 * 24 * 3600


@require_GET
def theme_stylesheet(request: HttpRequest, version: int) -> HttpResponse:
    """The network's colours as CSS custom properties. Each version's URL is cached for a
    year; a page always names the current version, so a change shows at once."""
    theme = theme_for(network_current())
    if version != theme.version:
        return redirect("theme-css", version=theme.version)
    css = render_to_string("theming/theme.css", {"theme": theme})
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


@require_GET
def theme_image(request: HttpRequest, kind: str, version: int) -> FileResponse:
    """The network's logo or favicon, at the theme version that pages name."""
    theme = theme_for(network_current())
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


# The longest name a home screen shows under an icon without cutting it.
SHORT_NAME = 12


@require_GET
def web_manifest(request: HttpRequest) -> JsonResponse:
    """The network's web app manifest: what an installed app is called, its icons and
    colours, all from the network's branding, so each network installs as its own app."""
    network = network_current()
    theme = theme_for(network)
    name = network.name
    icons = [
        {
            "src": reverse("theme-icon", args=[theme.version, size]),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any",
        }
        for size in SIZES
        if size != 180
    ] + [
        {
            "src": reverse("theme-icon-maskable", args=[theme.version, 512]),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        }
    ]
    manifest = {
        "id": "/",
        "name": name,
        "short_name": name if len(name) <= SHORT_NAME else name[:SHORT_NAME].rstrip(),
        "description": _("%(network)s on Hexitime: give an hour, get an hour.") % {"network": name},
        "lang": get_language(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND,
        "theme_color": theme.primary_colour,
        "icons": icons,
    }
    response = JsonResponse(manifest, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def theme_icon(
    request: HttpRequest, version: int, size: int, maskable: bool = False
) -> HttpResponse:
    """One of the network's app icons (theming.icons), at the theme version pages name."""
    theme = theme_for(network_current())
    if size not in SIZES or version != theme.version:
        raise Http404(_("No such icon"))
    response = HttpResponse(icon_png(theme, size=size, maskable=maskable), content_type="image/png")
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker: it keeps the offline page (and its styles) to show when there is
    no connection, and shows push notifications. Served from the root so its scope is the
    whole site; never cached by HTTP, so a new version (a theme change) is found at once."""
    theme = theme_for(network_current())
    assets = [
        reverse("offline"),
        static("theming/base.css"),
        reverse("theme-css", args=[theme.version]),
    ]
    script = render_to_string(
        "theming/sw.js",
        {
            "cache": f"hexitime-offline-{theme.version}",
            "assets": assets,
            "offline": assets[0],
            "icon": reverse("theme-icon", args=[theme.version, 192]),
        },
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """What the service worker shows when a page cannot be loaded. It is fetched once and
    kept, so it names no member and takes no one's pending messages."""
    return render(request, "theming/offline.html", {"messages": (), "offline": True})


class BrandingForm(forms.Form):
    primary_colour = forms.CharField(
        label=gettext_lazy("Main colour (header and links)"), max_length=7
    )
    accent_colour = forms.CharField(label=gettext_lazy("Button colour"), max_length=7)
    welcome_headline = forms.CharField(
        label=gettext_lazy("Welcome headline"), max_length=120, required=False
    )
    welcome_text = forms.CharField(
        label=gettext_lazy("Welcome text"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    footer_links = forms.CharField(
        label=gettext_lazy("Footer links"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line: label | https://address (up to five)."),
    )
    logo = forms.FileField(label=gettext_lazy("Logo (PNG or SVG, up to 200 KB)"), required=False)
    remove_logo = forms.BooleanField(label=gettext_lazy("Remove the current logo"), required=False)
    favicon = forms.FileField(
        label=gettext_lazy("Browser tab icon (PNG or SVG, up to 50 KB)"),
        required=False,
        help_text=gettext_lazy("A small square image shown in browser tabs and bookmarks."),
    )
    remove_favicon = forms.BooleanField(
        label=gettext_lazy("Remove the current tab icon"), required=False
    )
    default_language = forms.ChoiceField(
        label=gettext_lazy("Language for visitors who have not chosen one"),
        choices=settings.LANGUAGES,
        help_text=gettext_lazy(
            "Members can still pick their own language at the foot of every page."
        ),
        required=False,
    )

    def clean_default_language(self) -> str | None:
        return self.cleaned_data["default_language"] or None  # not sent: unchanged

    def clean_footer_links(self) -> list[dict[str, str]]:
        links = []
        for line in self.cleaned_data["footer_links"].splitlines():
            if line.strip():
                label, _bar, url = line.partition("|")
                links.append({"label": label.strip(), "url": url.strip()})
        return links


@login_required
@permission_required("theming.change_theme", raise_exception=True)
def branding_page(request: HttpRequest) -> HttpResponse:
    network = network_current()
    theme = theme_for(network)
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                theme_update(network=network, actor=acting_member(request), **form.cleaned_data)
            except ThemeRefused as refused:
                refusal_show(form, refused)
            else:
                messages.success(request, _("Your network's branding is saved."))
                return redirect(reverse("branding"))
    else:
        links = "\n".join(f"{link['label']} | {link['url']}" for link in theme.footer_links)
        form = BrandingForm(
            initial={
                "primary_colour": theme.primary_colour,
                "accent_colour": theme.accent_colour,
                "welcome_headline": theme.welcome_headline,
                "welcome_text": theme.welcome_text,
                "footer_links": links,
                "default_language": theme.default_language,
            }
        )
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
    theme = theme_for(network_current())
    form = BrandingForm(request.POST)
    return render(request, "theming/preview.html", _preview(form, theme))


@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """The accessibility statement, in the form of the GOV.UK model statement; anyone may
    read it, signed in or not. On a network it names that network's organisers' contact; on
    the public site, the platform's."""
    shown = accessibility_statement_shown(getattr(request, "tenant", None))
    return render(
        request,
        "theming/accessibility.html",
        {
            "statement": shown.statement,
            "emails": shown.emails,
            "site_name": shown.site_name,
            "report": shown.report,
            "site_url": request.build_absolute_uri("/"),
            "known_issues": shown.known_issues,
        },
    )


class StatementForm(forms.Form):
    organisation = forms.CharField(
        label=gettext_lazy("Organisation that runs this network"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Shown as who runs the site; the network's name when empty."),
    )
    contact_email = forms.EmailField(
        label=gettext_lazy("Email for accessibility problems"),
        required=False,
        help_text=gettext_lazy("When empty, the statement gives the organisers' own addresses."),
    )
    contact_phone = forms.CharField(label=gettext_lazy("Telephone"), max_length=40, required=False)
    response_days = forms.IntegerField(
        label=gettext_lazy("Days within which you reply"), min_value=1, max_value=60, initial=5
    )
    compliance = forms.ChoiceField(
        label=gettext_lazy("Compliance with WCAG 2.2 AA"), choices=Compliance.choices
    )
    enforcer = forms.ChoiceField(
        label=gettext_lazy("Where the network is"), choices=Enforcer.choices
    )
    known_issues = forms.CharField(
        label=gettext_lazy("Content you know is not accessible"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line: what it is and how it fails."),
    )
    tested_by = forms.CharField(
        label=gettext_lazy("How it was tested beyond automated checks"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reviewed_on = forms.DateField(
        label=gettext_lazy("Last reviewed on"),
        required=False,
        help_text=gettext_lazy("For example 2026-12-01."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@login_required
@permission_required("theming.change_theme", raise_exception=True)
def accessibility_settings(request: HttpRequest) -> HttpResponse:
    """Organisers: what the network's accessibility statement says."""
    network = network_current()
    statement = accessibility_statement_for(network)
    if request.method == "POST":
        form = StatementForm(request.POST)
        if form.is_valid():
            try:
                accessibility_statement_update(
                    network=network, actor=acting_member(request), **form.cleaned_data
                )
            except StatementRefused as refused:
                refusal_show(form, refused)
            else:
                messages.success(request, _("The accessibility statement is saved."))
                return redirect(reverse("accessibility-settings"))
    else:
        form = StatementForm(
            initial={name: getattr(statement, name) for name in StatementForm.base_fields}
        )
    return render(request, "theming/accessibility_settings.html", {"form": form})
