"""Network operations: the writes of the tenants app, one module per sub-domain.

- `slugs`: which subdomains a network may have, and what to suggest instead.
- `networks`: a network's life: create, suspend, resume; the public site's own row.
- `schemas`: network schemas from a captured template or a spare; schema migration.
- `provisioning`: self-service start on the public site and the provisioning job.
- `handover`: the single-use link that signs a new network's organiser in.
- `staff`: platform staff's export and deletion of a network.
- `overview`: the staff console's figures for each network (members, hours, activity).
- `billing`: Stripe webhooks, checkout and portal; staff setting a network's plan.
- `domains`: custom domains, verified by a DNS TXT record.
- `fleet`: migrating every network schema, only those behind.
- `archives`: moving one network out of and back into a platform.

Nothing is re-exported here: import from the module that does the job. Services queue
Celery tasks by name (`celery.current_app.send_task("tenants.tasks...")`) after the commit
and never import tenants.tasks, so tasks -> services is the only direction.
"""
