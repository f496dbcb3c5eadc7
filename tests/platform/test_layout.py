"""`platform/` must never become a package: it would shadow the standard library."""

import subprocess
import sys

from hexitime.settings.env import REPO_ROOT


def test_platform_folder_is_not_a_package() -> None:
    assert not (REPO_ROOT / "platform" / "__init__.py").exists()


def test_stdlib_platform_uuid_and_django_import_from_the_repository_root() -> None:
    code = (
        "import platform, uuid, django; "
        "assert platform.__file__.endswith('platform.py'), platform.__file__; "
        "print(platform.system(), uuid.uuid4().version, django.VERSION[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    system, uuid_version, _ = result.stdout.split()
    assert system == "Linux"
    assert uuid_version == "4"
