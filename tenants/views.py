from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from hexitime.auth import acting_member
from hexitime.db import connection
from hexitime.errors import ApplicationError

from .billing import billing_checkout_start, billing_portal_open, stripe_webhook_receive
from .domains import (
    access_domain_claim,
    custom_domain_add,
    custom_domain_verify,
    txt_record_name,
    txt_record_value,
)
from .forms import StartNetworkForm
from .models import Network, ProvisioningJob
from .selectors import network_list
from .services import (
    login_handoff_redeem,
    login_handoff_token,
    member_is_organiser,
    network_domain,
    network_start,
)

_SESSION_JOBS = "provisioning_jobs"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _port_suffix(request: HttpRequest) -> str:
    port = request.get_port()
    return "" if port in {"80", "443"} else f":{port}"


def home(request: HttpRequest) -> HttpResponse:
    """The public site's front page: what Hexitime is and the networks on it."""
    suffix = _port_suffix(request)
    networks = [
        {
            "name": network.name,
            "url": f"{request.scheme}://{network.domains.all()[0].domain}{suffix}/",
        }
        for network in network_list()
        if network.domains.all()
    ]
    return render(request, "tenants/home.html", {"networks": networks})


@require_http_methods(["GET", "POST"])
def start_page(request: HttpRequest) -> HttpResponse:
    """Start a network: the organiser's details in, a provisioning job queued."""
    form = StartNetworkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = network_start(**form.cleaned_data)
        except ApplicationError as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            # Only the browser that asked may be signed in when the network is ready.
            request.session[_SESSION_JOBS] = [*request.session.get(_SESSION_JOBS, []), str(job.pk)]
            return redirect("start-progress", job_id=job.pk)
    return render(request, "tenants/start.html", {"form": form})


def start_progress(request: HttpRequest, job_id: str) -> HttpResponse:
    """How far building the network has got. htmx polls the status fragment; without
    JavaScript the page refreshes itself. When ready, the organiser who asked is sent
    to their network, signed in."""
    job = ProvisioningJob.objects.select_related("network").filter(pk=job_id).first()
    if job is None:
        raise Http404
    mine = str(job.pk) in request.session.get(_SESSION_JOBS, [])
    if job.status == ProvisioningJob.Status.DONE and job.network is not None:
        network_url = f"{request.scheme}://{network_domain(job.slug)}{_port_suffix(request)}"
        target = f"{network_url}/accounts/login/"
        if mine and job.login_used_at is None:
            target = f"{network_url}/welcome/?token={login_handoff_token(job=job)}"
        if _is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
    template = "tenants/_start_status.html" if _is_htmx(request) else "tenants/start_progress.html"
    return render(request, template, {"job": job})


def welcome(request: HttpRequest) -> HttpResponse:
    """A network's side of the handoff: redeem the token, sign the organiser in."""
    try:
        organiser = login_handoff_redeem(
            token=request.GET.get("token", ""), schema_name=connection.schema_name
        )
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
        return redirect("login")
    login(request, organiser, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("network-setup")


@login_required
def network_setup(request: HttpRequest) -> HttpResponse:
    """The organiser's "set up your network" checklist."""
    member = acting_member(request)
    if not member_is_organiser(member):
        raise Http404
    return render(request, "tenants/setup.html", {"join_url": request.build_absolute_uri("/")})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's webhook endpoint: 200 once stored (or already stored), 400 if refused."""
    try:
        stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ApplicationError as refusal:
        return HttpResponse(refusal.message, status=400, content_type="text/plain")
    return HttpResponse(status=200)


@login_required
@require_http_methods(["GET", "POST"])
def billing_page(request: HttpRequest) -> HttpResponse:
    """An organiser's plan: upgrade through Stripe Checkout, manage in the portal."""
    member = acting_member(request)
    if not member_is_organiser(member):
        raise Http404
    network = Network.objects.get(pk=request.tenant.pk)  # type: ignore[attr-defined]
    if request.method == "POST":
        return_url = request.build_absolute_uri(reverse("network-billing"))
        try:
            if request.POST.get("action") == "manage":
                url = billing_portal_open(actor=member, network=network, return_url=return_url)
            else:
                url = billing_checkout_start(actor=member, network=network, return_url=return_url)
        except ApplicationError as refusal:
            messages.error(request, refusal.message)
            return redirect("network-billing")
        return redirect(url)
    return render(request, "tenants/billing.html", {"billed": network})


@login_required
@require_http_methods(["GET", "POST"])
def domains_page(request: HttpRequest) -> HttpResponse:
    """An organiser's custom domains: claim one, see the TXT record to add, verify."""
    member = acting_member(request)
    if not member_is_organiser(member):
        raise Http404
    network = Network.objects.get(pk=request.tenant.pk)  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            if request.POST.get("action") == "verify":
                claim = access_domain_claim(int(request.POST.get("claim", 0)), network=network)
                custom_domain_verify(actor=member, claim=claim)
                messages.success(request, f"{claim.domain} now leads to your network.")
            else:
                claim = custom_domain_add(
                    actor=member, network=network, domain=request.POST.get("domain", "")
                )
                messages.success(request, f"Now add the TXT record below for {claim.domain}.")
        except (ApplicationError, ValueError) as refusal:
            messages.error(request, getattr(refusal, "message", "No such domain."))
        return redirect("network-domains")
    claims = [
        {"claim": c, "name": txt_record_name(c), "value": txt_record_value(c)}
        for c in network.domain_claims.all()
    ]
    return render(request, "tenants/domains.html", {"claims": claims, "billed": network})
