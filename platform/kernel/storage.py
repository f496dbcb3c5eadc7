"""Uploaded media: one folder or key prefix per network, on local disk or object storage.

Without HEXITIME_MEDIA_BUCKET, django-tenants' TenantFileSystemStorage keeps a network's
files in MEDIA_ROOT/<schema name>/. With it, TenantS3Storage keeps them in the bucket under
the key prefix <schema name>/. Both take the prefix from the schema of the current
connection at every call, so code that saves, opens or deletes a file inside
`tenant_context(network)` reaches that network's files and no others: a name that climbs
out of the prefix (`../net_other/...`, `/net_other/...`) is refused as a suspicious
operation before any request reaches the bucket.
"""

from __future__ import annotations

import os
import shutil

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django_tenants.utils import get_public_schema_name, parse_tenant_config_path, schema_context
from storages.backends.s3 import S3Storage


class TenantS3Storage(S3Storage):
    """django-storages' S3Storage whose key prefix is the current network's schema name
    (MULTITENANT_RELATIVE_MEDIA_ROOT, "%s", as for the local folder)."""

    @property
    def location(self) -> str:
        return str(parse_tenant_config_path(settings.MULTITENANT_RELATIVE_MEDIA_ROOT))


def network_media_delete(schema_name: str) -> int:
    """Delete every uploaded file of the network whose schema this is: its folder, or every
    key under its prefix. Returns how many files were deleted. The public schema's media
    is never deleted this way."""
    if schema_name == get_public_schema_name():
        raise ValueError("the public schema's media is not a network's")
    with schema_context(schema_name):
        storage = storages["default"]
        if isinstance(storage, FileSystemStorage):
            return _folder_delete(storage)
        if isinstance(storage, S3Storage):
            return _prefix_delete(storage)
    raise TypeError(f"network_media_delete does not know {type(storage).__name__}")


def _folder_delete(storage: FileSystemStorage) -> int:
    root = storage.path("")
    count = sum(len(files) for _, _, files in os.walk(root))
    shutil.rmtree(root, ignore_errors=True)
    return count


def _prefix_delete(storage: S3Storage) -> int:
    # One DeleteObjects request per 1,000 keys; the trailing slash keeps net_a from
    # matching net_ab.
    deleted = storage.bucket.objects.filter(Prefix=f"{storage.location}/").delete()
    return sum(len(batch.get("Deleted", [])) for batch in deleted)
