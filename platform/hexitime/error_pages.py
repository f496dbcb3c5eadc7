"""The pages Django shows when a request fails: the base design, what happened and where to
go next (JSON for the API). Set as handler400/403/404/500 in both URL configurations."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

PAGES: dict[int, tuple[str, str]] = {
    400: (
        "Something in that request was not right",
        "Go back, check what you entered and try again.",
    ),
    403: (
        "You can't open this page",
        "It may be for your network's organisers, or you may need to sign in as someone "
        "else. If you think you should have access, ask an organiser.",
    ),
    404: ("Page not found", "The address may be mistyped, or what it pointed to has been removed."),
    500: (
        "Something went wrong on our side",
        "Nothing you did caused this, and we have been told. Please try again in a few minutes.",
    ),
    503: ("Hexitime is briefly unavailable", "Reload the page in a minute to try again."),
}


def error_page(
    request: HttpRequest, status: int, detail: str = "", *, with_context: bool = True
) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail or PAGES[status][0]}, status=status)
    # A 500 renders without the request's context processors: they may be what failed.
    return HttpResponse(
        error_html(status, detail, request if with_context else None), status=status
    )


def error_html(status: int, detail: str = "", request: HttpRequest | None = None) -> str:
    """The page for `status`; without `request` it reads neither the database nor Redis
    (the 500 and 503 pages)."""
    title, explanation = PAGES[status]
    context = {"title": title, "explanation": explanation, "detail": detail}
    return loader.get_template("errors/page.html").render(context, request)


def _detail(exception: Exception | None) -> str:
    """The message a view raised with (`Http404("No such exchange")`), never a repr."""
    message = exception.args[0] if exception is not None and exception.args else ""
    return message if isinstance(message, str) else ""


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403, _detail(exception))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404, _detail(exception))


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500, with_context=False)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent without its token (often an old tab, or cookies off)."""
    return error_page(
        request,
        403,
        "The form you sent had expired or could not be checked. Go back, reload the page "
        "and send it again (this site needs cookies to be allowed).",
    )
