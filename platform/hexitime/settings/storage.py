"""Uploaded media: the local folder, or S3-compatible object storage when a bucket is named.

HEXITIME_MEDIA_BUCKET       the bucket (unset: files stay in MEDIA_ROOT/<schema name>/)
HEXITIME_S3_ENDPOINT_URL    the S3 API's address for MinIO, Ceph, Garage... (unset: AWS)
AWS_S3_REGION_NAME          the bucket's region
AWS_ACCESS_KEY_ID,          the credentials, read by boto3 itself (so an instance role or
AWS_SECRET_ACCESS_KEY       a credentials file works too and no secret lands in settings)
HEXITIME_MEDIA_URL_EXPIRE   seconds a signed media URL stays valid (default 3600)

Objects are private (no ACL is sent, so the bucket's own policy applies: keep it private).
Pages name a network's logo and favicon by the app's own URLs (/theme/logo/<version>),
which read the object and serve it on the network's host, so the public sign-in pages
need no public object; anything else is linked by a URL signed for a short time.
docs/decisions.md, "Media on object storage", says why.
"""

from __future__ import annotations

from typing import Any

from .env import env_int, env_str


def media_storage() -> dict[str, Any]:
    """STORAGES["default"] as the environment asks for it."""
    bucket = env_str("HEXITIME_MEDIA_BUCKET", "")
    if not bucket:
        return {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"}
    return {
        "BACKEND": "kernel.storage.TenantS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env_str("HEXITIME_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("HEXITIME_MEDIA_URL_EXPIRE", 3600),
            # As on disk: a second file of the same name gets a new name, never overwrites.
            "file_overwrite": False,
        },
    }


MEDIA_STORAGE = media_storage()
