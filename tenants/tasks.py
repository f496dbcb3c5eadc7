"""Celery tasks of the public schema: they take primitive ids and re-fetch."""

from __future__ import annotations

from hexitime.celery import app


@app.task(acks_late=True)
def network_provision_task(job_id: str) -> str:
    """Build the network a ProvisioningJob asks for (idempotent: see network_provision)."""
    from .services import network_provision

    return network_provision(job_id=job_id).status


@app.task(ignore_result=True)
def schema_spares_fill_task() -> int:
    """Keep spare network schemas built ahead of the next sign-up."""
    from .services import schema_spares_fill

    return schema_spares_fill()
