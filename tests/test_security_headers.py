"""The security headers with production settings (issue 10): HSTS over HTTPS, a content
security policy whose scripts need the page's nonce (no inline script runs), frames denied.

Read from a real settings module in a subprocess, like `check --deploy` in
tests/test_settings_and_commands.py: the test settings are not production's."""

import json
import re
import secrets

from tests.test_settings_and_commands import FIELD_KEYS, manage

PROBE = """
import json
from django.test import Client

client = Client()
page = client.get("/accounts/login/", secure=True, HTTP_HOST="aid.example.org")
plain = client.get("/accounts/login/", HTTP_HOST="aid.example.org")
print(json.dumps({
    "status": page.status_code,
    "headers": dict(page.headers),
    "html": page.content.decode(),
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
}))
"""


def production(*args):
    return manage(
        *args,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),  # 67 random characters
        ALLOWED_HOSTS="aid.example.org",
        HTTPS="true",
        EMAIL_HOST="smtp.example.org",
        **FIELD_KEYS,
    )


def test_check_deploy_is_clean_with_a_random_secret_key():
    result = production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_pages_send_hsts_a_nonce_only_script_policy_and_deny_frames():
    result = production("shell", "--no-startup", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["status"] == 200
    headers = probe["headers"]
    hsts = headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = dict(
        (directive.split(" ", 1) + [""])[:2]
        for directive in (part.strip() for part in headers["Content-Security-Policy"].split(";"))
        if directive
    )
    script_src = policy["script-src"].split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'self'" in script_src and any(s.startswith("'nonce-") for s in script_src)
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "'unsafe-inline'" not in policy.get("style-src", "")
    # Scripts are files of the app's own; an inline one would need the page's nonce.
    nonce = next(s for s in script_src if s.startswith("'nonce-"))[len("'nonce-") : -1]
    scripts = re.findall(r"<script\b[^>]*>", probe["html"])
    assert scripts
    for tag in scripts:
        assert re.search(r'\bsrc="/static/', tag) or f'nonce="{nonce}"' in tag, tag
    # Plain HTTP is sent to HTTPS.
    assert probe["plain_status"] == 301
    assert probe["plain_location"].startswith("https://aid.example.org/")
