"""``/privacy``, ``/terms`` and ``/support``: truthful built-in texts, the operator's own
Markdown files instead, and the links that lead to them."""

from __future__ import annotations

import logging
import re

import pytest

PAGES = ("/privacy", "/terms", "/support")


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """An instance folder of the test's own, where the operator's texts go."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    (tmp_path / "policies").mkdir()
    return tmp_path / "policies"


def source_of(html: str) -> str:
    return re.search(r'<meta name="policy-source" content="([^"]+)"', html).group(1)


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_public_and_names_the_contact(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert source_of(html) == "built-in"
    assert "mailto:support@example.com" in html
    assert '<meta name="publisher"' not in html


def test_the_privacy_policy_states_this_deployments_lifetimes(app, client):
    html = client.get("/privacy").get_data(as_text=True)
    assert "An access token works for 1 hour and a refresh token for 30 days" in html
    assert "deleted 14 days after its last step" in html
    app.config.update(ACCESS_TOKEN_TTL=7200, REFRESH_TOKEN_TTL=90 * 86400, CONNECTION_TRACE_DAYS=3)
    html = client.get("/privacy").get_data(as_text=True)
    assert "An access token works for 2 hours and a refresh token for 90 days" in html
    assert "deleted 3 days after its last step" in html
    # What people can do about their data points at the pages that do it.
    assert "Download my data" in html and "Delete your account" in html
    assert 'href="/account"' in html


def test_the_publisher_is_named_when_set(app, client):
    app.config["PLUGIN_PUBLISHER"] = "Example Ltd"
    for path in PAGES:
        html = client.get(path).get_data(as_text=True)
        assert "Example Ltd" in html and '<meta name="publisher" content="Example Ltd">' in html


def test_the_operators_markdown_replaces_a_page(client, instance):
    (instance / "privacy.md").write_text(
        "# Our privacy policy\n\nWe keep **little**. <script>alert(1)</script>\n\n"
        "- [Write to us](mailto:privacy@example.org)\n",
        encoding="utf-8",
    )
    html = client.get("/privacy").get_data(as_text=True)
    assert source_of(html) == "instance"
    assert "<h1>Our privacy policy</h1>" in html and "<strong>little</strong>" in html
    assert '<a href="mailto:privacy@example.org">Write to us</a>' in html
    # Raw HTML in the file is shown as text, never run.
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "What we keep" not in html
    # The other pages keep their built-in text.
    assert source_of(client.get("/terms").get_data(as_text=True)) == "built-in"


def test_an_empty_file_keeps_the_built_in_text(client, instance):
    (instance / "terms.md").write_text("  \n", encoding="utf-8")
    assert source_of(client.get("/terms").get_data(as_text=True)) == "built-in"


def test_an_unreadable_file_is_logged_and_the_built_in_text_shown(client, instance, caplog):
    (instance / "support.md").write_bytes(b"\xff\xfe not utf-8 \x80")
    with caplog.at_level(logging.ERROR, logger="plugin.policies.texts"):
        response = client.get("/support")
    assert response.status_code == 200
    assert source_of(response.get_data(as_text=True)) == "built-in"
    assert "support.md" in caplog.text


@pytest.mark.parametrize("path", ["/", "/login", "/signup", "/legal", "/privacy"])
def test_every_page_links_to_the_three_in_its_footer(client, path):
    html = client.get(path).get_data(as_text=True)
    footer = html[html.index('<footer class="site-footer">') :]
    for page in PAGES:
        assert f'href="{page}"' in footer


def test_legal_links_to_the_full_pages_and_the_manifest_keeps_it(client):
    assert client.get("/.well-known/ai-plugin.json").get_json()["legal_info_url"].endswith("/legal")
    html = client.get("/legal").get_data(as_text=True)
    article = html[: html.index("</article>")]
    for page in PAGES:
        assert f'href="{page}"' in article
