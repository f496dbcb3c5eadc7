"""`hexitime tenants stuck [--repair | --fail]`: provisioning jobs nothing is working on."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tenants.services.provisioning import provisioning_job_repair, provisioning_jobs_stuck


class Command(BaseCommand):
    help = (
        "List provisioning jobs whose worker died or whose message was lost; --repair puts "
        "them back on the queue (failing those interrupted too often), --fail fails them "
        "(the organiser sees 'Start again')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--repair", action="store_true")
        action.add_argument("--fail", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        stuck = provisioning_jobs_stuck()
        if not stuck:
            self.stdout.write("No stuck provisioning jobs.")
            return
        now = timezone.now()
        for job in stuck:
            idle = int((now - job.updated_at).total_seconds())
            line = (
                f"{job.pk}  {job.slug:<20} {job.status:<8} {job.step!r}, "
                f"{job.attempts} attempt(s), idle {idle}s"
            )
            if options["repair"] or options["fail"]:
                job = provisioning_job_repair(job=job, give_up=options["fail"])
                line += f"  -> {job.status}"
            self.stdout.write(line)
