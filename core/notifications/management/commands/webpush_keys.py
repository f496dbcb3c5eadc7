from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.notifications.push import vapid_keys_generate


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair for Web Push, as the environment variables to set on "
        "every web and worker process of this deployment (once: new keys end every "
        "member's existing push subscriptions)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        private, public = vapid_keys_generate()
        self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={private}")
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public}")
