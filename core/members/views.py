from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def network_home(request: HttpRequest) -> HttpResponse:
    """A network's front page: its own welcome, and for members their home."""
    return render(request, "members/network_home.html")
