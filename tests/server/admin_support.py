"""Helpers of the administration tests: page log-in, the page's CSRF token, form posts."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from tests.support.world import PASSWORD

HTML = {"accept": "text/html"}


def page_login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Log in through the log-in form: the client then holds the session cookie."""
    resp = client.post(
        "/login", data={"email": email, "password": password}, follow_redirects=False
    )
    assert resp.status_code == 303, resp.text


def csrf_of(client: TestClient, page: str = "/admin") -> str:
    """The CSRF token a logged-in page carries."""
    html = client.get(page, headers=HTML).text
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def post_form(client: TestClient, path: str, data: dict[str, str]) -> Response:
    """Post a page form with the session's CSRF token, not following the redirect."""
    return client.post(
        path, data={**data, "csrf": csrf_of(client)}, headers=HTML, follow_redirects=False
    )
