from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from hexitime.errors import ApplicationError, PermissionDenied

from .forms import NetworkStartForm
from .models import Network, ProvisioningJob
from .selectors import network_list
from .services import handover_consume, handover_token, network_domain, network_start

_SESSION_JOBS = "provisioning_jobs"


def _site_url(request: HttpRequest, domain: str) -> str:
    port = request.get_port()
    suffix = "" if port in {"80", "443"} else f":{port}"
    return f"{request.scheme}://{domain}{suffix}"


def home(request: HttpRequest) -> HttpResponse:
    """The public site's front page: what Hexitime is and the networks on it."""
    networks = [
        {"name": network.name, "url": _site_url(request, network.domains.all()[0].domain) + "/"}
        for network in network_list()
        if network.domains.all()
    ]
    return render(request, "tenants/home.html", {"networks": networks})


def network_start_view(request: HttpRequest) -> HttpResponse:
    """Public site: an organiser asks for a new network; provisioning runs in the background."""
    form = NetworkStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = network_start(**form.cleaned_data)
        except ApplicationError as refused:
            field = refused.field if refused.field in form.fields else None
            form.add_error(field, refused.message)
        else:
            # Only this browser may follow the job (its page carries the sign-in link).
            request.session[_SESSION_JOBS] = [*request.session.get(_SESSION_JOBS, []), str(job.pk)]
            return redirect("network-start-progress", job_id=job.pk)
    status = 400 if form.errors else 200
    return render(request, "tenants/start.html", {"form": form}, status=status)


@require_GET
def network_start_progress(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """Public site: how far provisioning has got; once done, on into the new network."""
    if str(job_id) not in request.session.get(_SESSION_JOBS, []):
        raise Http404
    job = get_object_or_404(ProvisioningJob.objects.select_related("network"), pk=job_id)
    context: dict[str, Any] = {"job": job, "refresh": job.status in {"queued", "running"}}
    if job.status == ProvisioningJob.Status.DONE and job.network is not None:
        network_url = _site_url(request, network_domain(job.network.slug))
        if job.handed_over_at is None:
            path = reverse(
                "network-handover",
                kwargs={"token": handover_token(job)},
                urlconf="hexitime.urls_tenant",
            )
            return redirect(network_url + path)
        context["network_url"] = network_url + "/"
    return render(request, "tenants/start_progress.html", context)


@require_GET
def network_handover(request: HttpRequest, token: str) -> HttpResponse:
    """Network site: the organiser arrives from the progress page, signed in once by token."""
    network: Network = request.tenant  # type: ignore[attr-defined]
    try:
        organiser = handover_consume(token=token, network=network)
    except PermissionDenied as refused:
        return render(
            request, "tenants/handover_refused.html", {"reason": refused.message}, status=403
        )
    login(request, organiser)
    return redirect("network-welcome")


@login_required
def network_welcome(request: HttpRequest) -> HttpResponse:
    """Network site: the organiser's "set up your network" checklist."""
    return render(request, "tenants/welcome.html")
