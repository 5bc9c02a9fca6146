"""The environment of bin/demo, and manage.py without one."""

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def demo_environment(**variables: str) -> dict[str, str]:
    # Only PATH from outside, so a PORT or SITE_URL of the test run stays out.
    env = {"PATH": os.environ["PATH"], **variables}
    output = subprocess.run(
        ["bash", "-c", ". bin/_demo_env.sh && env"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def test_site_url_follows_port():
    assert demo_environment(PORT="8123")["SITE_URL"] == "http://127.0.0.1:8123"


def test_site_url_defaults_to_port_8000():
    assert demo_environment()["SITE_URL"] == "http://127.0.0.1:8000"


def test_site_url_set_by_user_is_kept():
    environment = demo_environment(PORT="8123", SITE_URL="https://desk.example.com")

    assert environment["SITE_URL"] == "https://desk.example.com"


def test_demo_script_uses_this_environment():
    script = (REPOSITORY / "bin" / "demo").read_text()

    assert ". bin/_demo_env.sh" in script


def test_manage_py_without_secret_key_prints_one_line():
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert result.stderr == (
        "Error: SECRET_KEY is missing. Set it to a long random string, or set "
        "DEBUG=1 for local development.\n"
    )
    assert result.stdout == ""
