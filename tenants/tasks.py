from __future__ import annotations

from django_tenants.utils import get_public_schema_name, schema_context

from hexitime.celery import app

from .services import provisioning_job_run


@app.task
def network_provision(*, job_id: str) -> str:
    """Provision the network a ProvisioningJob asks for; returns the job's final status.
    Idempotent: a job already finished or failed is left as it is."""
    with schema_context(get_public_schema_name()):
        return provisioning_job_run(job_id=job_id).status


@app.task(ignore_result=True)
def schema_spares_fill_task() -> int:
    """Keep spare network schemas built ahead of the next sign-up."""
    from .services import schema_spares_fill

    return schema_spares_fill()


@app.task(ignore_result=True)
def provisioning_jobs_repair_task() -> int:
    """Re-queue (or fail, after too many interruptions) provisioning jobs nothing is
    working on: the worker that ran them died, or their message was lost."""
    from .services import provisioning_jobs_repair

    with schema_context(get_public_schema_name()):
        return provisioning_jobs_repair()
