"""The digest that makes an issued record checkable: HMAC-SHA256, under a key derived from
SECRET_KEY for this purpose alone (`salted_hmac`), of a canonical JSON of everything the
verification page shows. The network's schema is part of it, so a record copied into
another network's tables does not verify there either."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "hexitime.cpd.record"


def record_digest(
    *,
    schema: str,
    code: str,
    member_name: str,
    scheme: str,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    rows: list[dict[str, Any]],
    issued_at: datetime.datetime,
) -> str:
    message = json.dumps(
        {
            "schema": schema,
            "code": code,
            "member": member_name,
            "scheme": scheme,
            "start": starts_on.isoformat() if starts_on else None,
            "end": ends_on.isoformat() if ends_on else None,
            "rows": rows,
            "issued": issued_at.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return salted_hmac(SALT, message, algorithm="sha256").hexdigest()


def digest_matches(expected: str, actual: str) -> bool:
    return constant_time_compare(expected, actual)
