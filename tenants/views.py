from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.members.auth import acting_member
from core.members.places import plan_usage
from kernel.errors import ApplicationError, PermissionDenied
from kernel.forms import refusal_show

from .forms import NetworkStartForm
from .models import Network, ProvisioningJob
from .plans import plan_offers
from .selectors import network_current, network_list
from .services import billing, domains
from .services.billing import (
    billing_by_card,
    billing_checkout_start,
    billing_portal_open,
    stripe_webhook_receive,
)
from .services.domains import (
    access_domain_claim,
    custom_domain_add,
    custom_domain_verify,
    domain_claims_list,
    txt_record_name,
    txt_record_value,
)
from .services.handover import handover_check, handover_consume, handover_token
from .services.provisioning import network_start
from .services.slugs import network_domain

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
            refusal_show(form, refused)
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


@never_cache
@require_http_methods(["GET", "POST"])
def network_handover(request: HttpRequest, token: str) -> HttpResponse:
    """Network site: the organiser arrives from the progress page. GET shows a button and
    uses nothing up (link previews and prefetchers only ever GET); its POST, CSRF-protected,
    spends the single-use token and signs the organiser in."""
    network: Network = network_current()
    try:
        if request.method == "POST":
            organiser = handover_consume(token=token, network=network)
        else:
            organiser = handover_check(token=token, network=network)
    except PermissionDenied as refused:
        return render(
            request, "tenants/handover_refused.html", {"reason": refused.message}, status=403
        )
    if request.method == "GET":
        return render(request, "tenants/handover.html", {"organiser": organiser})
    login(request, organiser, backend="core.members.backends.MemberBackend")
    return redirect("network-welcome")


@login_required
def network_welcome(request: HttpRequest) -> HttpResponse:
    """Network site: the organiser's "set up your network" checklist."""
    usage = plan_usage(network=network_current())
    return render(request, "tenants/welcome.html", {"usage": usage})


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
    if not member.has_perm(billing.PERMISSION):
        raise Http404
    network = Network.objects.get(pk=network_current().pk)
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
    context = {
        "billed": network,
        "usage": plan_usage(network=network),
        "offers": plan_offers(),
        "by_card": billing_by_card(),
    }
    return render(request, "tenants/billing.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def domains_page(request: HttpRequest) -> HttpResponse:
    """An organiser's custom domains: claim one, see the TXT record to add, verify."""
    member = acting_member(request)
    if not member.has_perm(domains.PERMISSION):
        raise Http404
    network = Network.objects.get(pk=network_current().pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "verify":
                claim = access_domain_claim(
                    int(request.POST.get("claim", 0)), actor=member, network=network
                )
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
        for c in domain_claims_list(actor=member, network=network)
    ]
    return render(request, "tenants/domains.html", {"claims": claims, "billed": network})
