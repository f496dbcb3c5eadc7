from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .selectors import audit_event_list

PAGE_SIZE = 200


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Organisers: the network's latest audit events, newest first."""
    return render(request, "audit/log.html", {"events": audit_event_list()[:PAGE_SIZE]})
