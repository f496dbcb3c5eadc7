from __future__ import annotations

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context

from .services.provisioning import provisioning_job_run, provisioning_jobs_repair
from .services.schemas import schema_spares_fill


@shared_task
def network_provision(*, job_id: str) -> str:
    """Provision the network a ProvisioningJob asks for; returns the job's final status.
    Idempotent: a job already finished or failed is left as it is."""
    with schema_context(get_public_schema_name()):
        return provisioning_job_run(job_id=job_id).status


@shared_task(ignore_result=True)
def schema_spares_fill_task() -> int:
    """Keep spare network schemas built ahead of the next sign-up."""
    return schema_spares_fill()


@shared_task(ignore_result=True)
def provisioning_jobs_repair_task() -> int:
    """Re-queue (or fail, after too many interruptions) provisioning jobs nothing is
    working on: the worker that ran them died, or their message was lost."""
    with schema_context(get_public_schema_name()):
        return provisioning_jobs_repair()
