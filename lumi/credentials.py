"""``lumi login`` / ``lumi logout`` and the credentials the command-line tools use.

``lumi login`` asks for an email and a password, signs in, and stores
``{project_id, api_base_url, token}`` as JSON in ``<user config dir>/lumi/credentials.json``
(``LUMI_CONFIG_DIR`` overrides the directory), readable by the owner only (mode 0600).
The environment wins over the file: ``LUMI_PROJECT_ID``, ``LUMI_API_BASE_URL`` and
``LUMI_TOKEN`` (a bare token) or ``LUMI_AUTHORIZATION`` (``"Bearer <token>"``).
The token is never printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from .errors import LumiError, ValidationError

if TYPE_CHECKING:
    from .client import LumiClient

CONFIG_DIR_ENV = "LUMI_CONFIG_DIR"
FILE_NAME = "credentials.json"


@attrs.frozen
class Credentials:
    """What ``lumi login`` stored. ``token`` stays out of the repr."""

    project_id: str
    api_base_url: str
    token: str = attrs.field(repr=False)


def config_dir() -> Path:
    """``$LUMI_CONFIG_DIR``, else the platform's user config directory for ``lumi``."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("lumi"))


def credentials_path() -> Path:
    """Where ``lumi login`` keeps the credentials."""
    return config_dir() / FILE_NAME


def save_credentials(credentials: Credentials) -> Path:
    """Write the credentials file (mode 0600, replaced atomically); returns its path."""
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    text = json.dumps(attrs.asdict(credentials), indent=2) + "\n"
    # Created 0600 from the start: the token is never readable by others, not even briefly.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # O_CREAT's mode does not apply to an existing file
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def load_credentials() -> Credentials | None:
    """The stored credentials, or None when there are none."""
    path = credentials_path()
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"{path}: unreadable credentials ({type(exc).__name__}); run `lumi login`"
        ) from None
    fields = ("project_id", "api_base_url", "token")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in fields):
        raise ValidationError(f"{path}: malformed credentials; run `lumi login` again")
    return Credentials(data["project_id"], data["api_base_url"], data["token"])


def delete_credentials() -> bool:
    """Remove the credentials file; whether there was one."""
    try:
        credentials_path().unlink()
    except FileNotFoundError:
        return False
    return True


def client_from_environment(
    project_id: str | None = None, api_base_url: str | None = None, **options: Any
) -> LumiClient:
    """A client for command-line tools: arguments, then the environment, then ``lumi login``.

    A stored token is only used for the project (and server) it was issued for.
    """
    from .client import DEFAULT_API_BASE_URL, create_client

    stored = load_credentials()
    project = project_id or os.environ.get("LUMI_PROJECT_ID") or (stored and stored.project_id)
    if not project:
        raise ValidationError("no project: set LUMI_PROJECT_ID, pass --project-id or `lumi login`")
    base = (
        api_base_url
        or os.environ.get("LUMI_API_BASE_URL")
        or (stored.api_base_url if stored and stored.project_id == project else None)
        or DEFAULT_API_BASE_URL
    )
    authorization = os.environ.get("LUMI_AUTHORIZATION")
    token = os.environ.get("LUMI_TOKEN")
    if token:
        authorization = f"Bearer {token}"
    if (
        not authorization
        and stored
        and (stored.project_id, stored.api_base_url)
        == (
            project,
            base.rstrip("/"),
        )
    ):
        authorization = f"Bearer {stored.token}"
    return create_client(
        project_id=project, api_base_url=base, authorization=authorization, **options
    )


@click.command("login")
@click.option("--project-id", envvar="LUMI_PROJECT_ID", prompt="Project id", help="The project.")
@click.option(
    "--api-base-url",
    envvar="LUMI_API_BASE_URL",
    default="https://api.lumi.new",
    show_default=True,
    help="The Lumi server.",
)
@click.option("--email", prompt=True, help="The account's email.")
@click.password_option(
    "--password", confirmation_prompt=False, help="Prompted (hidden) when not given."
)
def login_command(project_id: str, api_base_url: str, email: str, password: str) -> None:
    """Sign in with an email and password; store the token for the `lumi` commands."""
    from .client import create_client

    try:
        with create_client(project_id=project_id, api_base_url=api_base_url) as client:
            result = client.auth.sign_in_with_password(email=email, password=password)
    except LumiError as exc:
        raise click.ClickException(f"sign-in failed: {exc.message}") from None
    path = save_credentials(Credentials(project_id, api_base_url.rstrip("/"), result.access_token))
    click.echo(f"Signed in as {email} (project {project_id}); credentials saved to {path}")


@click.command("logout")
def logout_command() -> None:
    """Forget the credentials stored by `lumi login`."""
    path = credentials_path()
    if delete_credentials():
        click.echo(f"Signed out; removed {path}")
    else:
        click.echo("Not signed in (no stored credentials).")
