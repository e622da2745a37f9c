"""What the admin page and its partials show."""

from __future__ import annotations

from flask.testing import FlaskClient

from .conftest import ADMIN_URL, make_conflict, make_issue, make_person, make_run


def test_page_says_credentials_are_configured(admin_client: FlaskClient) -> None:
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "Configured" in html
    assert "Test connection" in html


def test_page_never_shows_a_secret(admin_client: FlaskClient) -> None:
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "sandbox-secret" not in html
    assert "do-not-show-this-webhook-secret" not in html


def test_page_offers_every_pull_and_push_action(admin_client: FlaskClient) -> None:
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    for value in ("pull:people", "pull:families", "pull:groups", "pull:full", "pull:recent"):
        assert f'value="{value}"' in html
    for value in ("push:people", "push:families", "push:group-memberships", "push:full"):
        assert f'value="{value}"' in html
    assert 'name="scope"' in html


def test_buttons_are_disabled_while_a_run_is_active(admin_client: FlaskClient) -> None:
    run = make_run("running")
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f"while run {run.id}" in html
    assert 'value="pull:full" class="pco-button pco-button--primary" disabled' in html


def test_buttons_are_enabled_when_nothing_runs(admin_client: FlaskClient) -> None:
    make_run("succeeded")
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert " disabled" not in html.split('id="pco-actions"')[1].split("</section>")[0]


def test_history_shows_status_counts_and_the_error(admin_client: FlaskClient) -> None:
    make_run("succeeded", sync_type="people", created=5, updated=1)
    make_run("failed", error_message="bad credentials: 401 Unauthorized")
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert ">Succeeded</span>" in html
    assert ">Failed</span>" in html
    assert "bad credentials: 401 Unauthorized" in html


def test_history_lists_only_the_last_20_top_level_runs(admin_client: FlaskClient) -> None:
    runs = [make_run("succeeded") for _ in range(22)]
    make_run("succeeded", sync_type="people", parent_id=runs[-1].id)
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert html.count('id="pco-run-') == 20
    assert f'id="pco-run-{runs[1].id}"' not in html


def test_held_matches_and_conflicts_are_listed_with_their_actions(
    admin_client: FlaskClient,
) -> None:
    make_issue()
    make_conflict(make_person(), "last_name", local="Byron", pco="King", base="Lovelace")
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "2 local people share the email ada@example.org" in html
    assert "Link to local person #3" in html and "Link to local person #4" in html
    assert "None of these: create new" in html
    assert "Keep PCO value" in html and "Use local value" in html
    assert "Byron" in html and "King" in html


def test_skipped_records_are_listed_with_their_reasons(admin_client: FlaskClient) -> None:
    run = make_run("succeeded", skipped=1)
    make_issue(
        kind="invalid",
        run_id=run.id,
        resource_type="PhoneNumber",
        pco_id="7001",
        reason="12 is not a phone number",
        candidates=[],
    )
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    table = html.split('id="pco-recent-issues"', 1)[1]
    assert "12 is not a phone number" in table
    assert "PCO 7001" in table and f"<td>{run.id}</td>" in table


def test_held_matches_are_not_listed_again_among_skipped_records(
    admin_client: FlaskClient,
) -> None:
    make_issue()  # ambiguous: listed, with its action, under held matches
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert 'id="pco-recent-issues"' not in html
    assert "Nothing skipped." in html


def test_only_the_latest_20_skipped_records_are_listed(admin_client: FlaskClient) -> None:
    for n in range(25):
        make_issue(kind="rejected", reason=f"PCO refused record {n:02d}", candidates=[])
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    section = html.split('id="pco-issues"')[1].split("</section>")[0]
    assert "PCO refused record 24" in section and "PCO refused record 05" in section
    assert "PCO refused record 04" not in section


def test_webhook_section_shows_the_url_and_secret_status(admin_client: FlaskClient) -> None:
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "https://church.example.org/api/pco/webhook" in html
    section = html.split('id="pco-webhook"')[1].split("</section>")[0]
    assert "Configured" in section
    assert "0 (0 active)" in section


def test_nightly_section_says_what_runs_it(admin_client: FlaskClient) -> None:
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "flask pco scheduler" in html
    assert 'name="hour"' in html


def test_a_host_layout_keeping_the_content_block_keeps_htmx_css_and_csrf(
    app, admin_client: FlaskClient
) -> None:  # type: ignore[no-untyped-def]
    from jinja2 import DictLoader

    host_layout = (
        "<html><body><nav>Our church</nav>{% block pco_content %}{% endblock %}</body></html>"
    )
    app.jinja_loader = DictLoader({"pco/layout.html": host_layout})
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "Our church" in html
    assert "vendor/htmx.min.js" in html and "admin.css" in html
    assert "X-CSRFToken" in html


def test_a_host_template_overrides_the_packaged_one(app, admin_client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    from jinja2 import DictLoader

    app.jinja_loader = DictLoader({"pco/_webhook.html": "<p>Our own webhook notes</p>"})
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "Our own webhook notes" in html
    assert "URL to give PCO" not in html


def test_held_matches_name_the_local_candidates(admin_client: FlaskClient) -> None:
    from .conftest import make_issue, make_person

    ada = make_person(first_name="Ada", last_name="Lovelace")
    make_issue(candidates=[ada.id])
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert f"Link to local person Ada Lovelace (#{ada.id})" in html


def test_skipped_records_say_how_many_there_are_beyond_the_20_listed(
    admin_client: FlaskClient,
) -> None:
    for n in range(23):
        make_issue(kind="skipped", resource_type="Household", pco_id=str(700 + n), candidates=[],
                   reason="household has no members in PCO")  # fmt: skip
    html = admin_client.get(ADMIN_URL).get_data(as_text=True)
    assert "(latest 20 of 23 this week; Health groups them by cause)" in html
