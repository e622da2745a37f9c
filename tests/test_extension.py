"""The extension's set-up: defaults, validation, registration, state and blueprints."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

import flask_pco
from flask_pco import PCO, ConfigError, current_pco
from flask_pco.config import DEFAULTS, load_config


def bare_app(**config: object) -> Flask:
    app = Flask(__name__)
    app.config.update({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test", **config})
    return app


@pytest.fixture
def pco() -> PCO:
    return PCO(SQLAlchemy())


def test_init_app_sets_a_default_for_every_key(pco: PCO) -> None:
    app = bare_app()
    pco.init_app(app)
    assert set(DEFAULTS) <= set(app.config)


def test_init_app_keeps_values_the_host_set(pco: PCO) -> None:
    app = bare_app(PCO_PER_PAGE=50)
    pco.init_app(app)
    assert current_state(app).config.per_page == 50


def test_state_lives_in_app_extensions_not_on_the_extension(pco: PCO) -> None:
    first, second = bare_app(PCO_APP_ID="one"), bare_app(PCO_APP_ID="two")
    pco.init_app(first)
    pco.init_app(second)
    assert current_state(first).config.app_id == "one"
    assert current_state(second).config.app_id == "two"
    assert not hasattr(pco, "app")


def test_second_registration_on_one_app_says_what_to_do(pco: PCO) -> None:
    app = bare_app()
    pco.init_app(app)
    with pytest.raises(RuntimeError, match=r"already registered.*once per app"):
        pco.init_app(app)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("PCO_API_URL", "api.planningcenteronline.com", "PCO_API_URL must be an absolute"),
        ("PCO_API_URL", "ftp://example.org", "PCO_API_URL must be an absolute"),
        ("PCO_PER_PAGE", 500, "PCO_PER_PAGE must be a whole number from 1 to 100"),
        ("PCO_TIMEOUT", 0, "PCO_TIMEOUT must be a number of seconds above 0 and at most 600"),
        ("PCO_REDIS_URL", "localhost:6379", "PCO_REDIS_URL must be an absolute"),
        ("PCO_TIME_ZONE", "Mars/Olympus", "PCO_TIME_ZONE must be a tz database name"),
        ("PCO_WEBHOOK_SECRET", 42, "PCO_WEBHOOK_SECRET must be a string"),
        ("PCO_API_VERSIONS", "2022-07-14", "PCO_API_VERSIONS must map"),
        ("PCO_WEBHOOK_BATCH", 0, "PCO_WEBHOOK_BATCH must be a whole number from 1 to 10000"),
        ("PCO_AUTO_MERGE", "maybe", "PCO_AUTO_MERGE must be true or false"),
        ("PCO_JOURNAL_DAYS", 0, "PCO_JOURNAL_DAYS must be a whole number from 1 to 36500"),
    ],
)
def test_malformed_config_fails_at_start_up_naming_the_key(
    pco: PCO, key: str, value: object, message: str
) -> None:
    app = bare_app(**{key: value})
    with pytest.raises(ConfigError, match=message):
        pco.init_app(app)
    assert "pco" not in app.extensions


def test_missing_secret_key_fails_at_start_up(pco: PCO) -> None:
    app = bare_app(SECRET_KEY="")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        pco.init_app(app)


def test_webhook_secrets_accept_a_comma_separated_list(pco: PCO) -> None:
    app = bare_app(PCO_WEBHOOK_SECRET="old-secret, new-secret")
    pco.init_app(app)
    assert current_state(app).config.webhook_secrets == ("old-secret", "new-secret")


@pytest.mark.parametrize(("value", "expected"), [("off", False), ("FALSE", False), ("1", True)])
def test_auto_merge_takes_the_words_an_environment_gives(
    pco: PCO, value: str, expected: bool
) -> None:
    app = bare_app(PCO_AUTO_MERGE=value)
    pco.init_app(app)
    assert current_state(app).config.auto_merge is expected


def test_client_without_credentials_is_a_config_error(pco: PCO) -> None:
    app = bare_app()
    pco.init_app(app)
    with app.app_context(), pytest.raises(ConfigError, match="PCO_APP_ID and PCO_SECRET"):
        current_pco().client()


def test_current_pco_without_the_extension_is_a_config_error() -> None:
    with bare_app().app_context(), pytest.raises(ConfigError, match="init_app"):
        current_pco()


def test_blueprints_and_cli_are_registered(pco: PCO) -> None:
    app = bare_app()
    pco.init_app(app)
    assert {"pco_admin", "pco_webhook"} <= set(app.blueprints)
    assert "pco" in app.cli.commands


def test_admin_page_is_denied_without_an_access_check(pco: PCO) -> None:
    app = bare_app()
    pco.init_app(app)
    assert app.test_client().get("/admin/pco-sync/").status_code == 403


def test_admin_access_check_can_allow(pco: PCO) -> None:
    db = pco.db
    app = bare_app()
    db.init_app(app)
    pco.admin_access(lambda: True)
    pco.init_app(app)
    with app.app_context():
        db.create_all()
    assert app.test_client().get("/admin/pco-sync/").status_code == 200


def test_register_models_rejects_an_unknown_role(pco: PCO) -> None:
    with pytest.raises(ConfigError, match="unknown role 'pastor'"):
        pco.register_models(pastor=object)  # type: ignore[arg-type]


def test_register_models_rejects_an_unknown_field(pco: PCO) -> None:
    with pytest.raises(ConfigError, match="unknown person fields"):
        pco.register_models(fields={"person": {"shoe_size": "shoes"}})


def test_field_mapping_can_rename_a_host_column(pco: PCO) -> None:
    pco.register_models(fields={"person": {"dob": "birth_date"}})
    assert pco.roles.column("person", "dob") == "birth_date"
    assert pco.roles.column("person", "first_name") == "first_name"


def test_an_unregistered_role_is_a_config_error(pco: PCO) -> None:
    with pytest.raises(ConfigError, match=r"pco.register_models\(event=YourModel\)"):
        pco.roles.model("event")


#: What host sites may import from ``flask_pco``: adding or removing a name is a decision,
#: made here on purpose, never by accident.
PUBLIC_API = {
    "PCO",
    "ApiError",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DatabaseBusyError",
    "DocumentError",
    "NotFoundError",
    "OrganizationUnknownError",
    "PcoError",
    "PcoLinkedMixin",
    "PcoState",
    "RateLimitError",
    "ServerError",
    "SyncCancelledError",
    "SyncInProgressError",
    "TransportError",
    "ValidationError",
    "conflict_recorded",
    "current_pco",
    "family_changed",
    "membership_changed",
    "pco_id_index",
    "pco_unlinked_index",
    "person_deactivated",
    "person_pulled",
    "person_pushed",
    "run_finished",
    "run_started",
    "settings_from_env",
}


def test_public_api_is_pinned() -> None:
    assert set(flask_pco.__all__) == PUBLIC_API
    assert len(flask_pco.__all__) == len(PUBLIC_API)  # no name listed twice


def test_every_public_name_is_importable() -> None:
    assert all(hasattr(flask_pco, name) for name in PUBLIC_API)


def test_names_hosts_imported_from_their_old_homes_still_import() -> None:
    from flask_pco.extension import PcoState as ExtensionState
    from flask_pco.extension import current_pco as extension_current_pco
    from flask_pco.jobs import start_sync
    from flask_pco.jobs.queue import start_sync as queue_start_sync

    assert ExtensionState is flask_pco.PcoState
    assert extension_current_pco is flask_pco.current_pco
    assert start_sync is queue_start_sync


def current_state(app: Flask) -> flask_pco.PcoState:
    with app.app_context():
        return current_pco()


def test_settings_from_env_keeps_the_pco_names_and_leaves_values_as_text() -> None:
    environ = {
        "PCO_APP_ID": "123456",
        "PCO_SECRET": "007",
        "PCO_API_URL": "http://127.0.0.1:5055",
        "PCO_API_VERSIONS": '{"people": "2023-02-15"}',
        "PCO_TEST_REDIS_URL": "redis://127.0.0.1:6379/12",  # not a flask-pco setting
        "FLASK_SECRET_KEY": "not ours either",
    }
    assert flask_pco.settings_from_env(environ) == {
        "PCO_APP_ID": "123456",
        "PCO_SECRET": "007",
        "PCO_API_URL": "http://127.0.0.1:5055",
        "PCO_API_VERSIONS": {"people": "2023-02-15"},
    }


def test_a_site_configured_from_the_environment_has_its_credentials(pco: PCO) -> None:
    app = bare_app()
    app.config.update(
        flask_pco.settings_from_env(
            {"PCO_APP_ID": "123456", "PCO_SECRET": "007", "PCO_PER_PAGE": "25"}
        )
    )
    pco.init_app(app)
    config = current_state(app).config
    assert (config.has_credentials, config.app_id, config.per_page) == (True, "123456", 25)


def test_settings_from_env_names_a_setting_that_is_not_json() -> None:
    with pytest.raises(ConfigError, match="PCO_API_VERSIONS must be a JSON object"):
        flask_pco.settings_from_env({"PCO_API_VERSIONS": "people=2023-02-15"})


@pytest.mark.parametrize(
    "value",
    ["nan", "inf", "-inf", float("nan"), float("inf"), "1e400", 10**400, "-1", "601", True, "x"],
)
def test_a_timeout_must_be_finite_and_in_range(pco: PCO, value: object) -> None:
    message = f"PCO_TIMEOUT must be a number of seconds above 0 and at most 600, got {value!r}"
    with pytest.raises(ConfigError) as raised:
        pco.init_app(bare_app(PCO_TIMEOUT=value))
    assert str(raised.value) == message


def test_a_timeout_may_be_a_fraction_of_a_second_given_as_text(pco: PCO) -> None:
    app = bare_app(PCO_TIMEOUT=" 2.5 ")
    pco.init_app(app)
    assert current_state(app).config.timeout == 2.5


@pytest.mark.parametrize("value", ["0", "-5", "+5", "2.5", 2.5, True, "١٢", "9" * 5000, "", None])
def test_a_whole_number_setting_refuses_anything_but_digits_in_range(
    pco: PCO, value: object
) -> None:
    with pytest.raises(ConfigError) as raised:
        pco.init_app(bare_app(PCO_PER_PAGE=value))
    assert str(raised.value) == f"PCO_PER_PAGE must be a whole number from 1 to 100, got {value!r}"


def _as_environment_text(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value) if value != "" else "x"


def test_settings_from_env_reads_every_key_and_load_config_takes_each_as_text() -> None:
    """Each setting, given as the environment gives it, is read and parsed to its own type."""
    environ = {key: _as_environment_text(default) for key, default in DEFAULTS.items()}
    environ.update(PCO_API_URL="http://127.0.0.1:5055", PCO_PUBLIC_URL="https://example.org")
    environ.update(PCO_REDIS_URL="redis://127.0.0.1:6379/0", PCO_TIME_ZONE="America/Chicago")
    environ.update(PCO_TOKEN_KEY="lRBIRN6tCnC0AG_8UIPFIDz9Ny2GkJ-47rNrWQzgcnc=")  # a Fernet key
    environ.update(
        PCO_ALERT_EMAILS="office@example.org", PCO_ALERT_WEBHOOK_URL="https://example.org/h"
    )
    settings = flask_pco.settings_from_env(environ)
    assert set(settings) == set(DEFAULTS)
    config = load_config(settings)
    assert (config.per_page, config.timeout, config.webhook_gap) == (100, 30.0, 6 * 3600)
    assert config.api_versions == DEFAULTS["PCO_API_VERSIONS"]


def test_settings_from_env_takes_an_empty_variable_as_unset() -> None:
    assert flask_pco.settings_from_env({"PCO_PER_PAGE": "", "PCO_API_URL": " "}) == {}
