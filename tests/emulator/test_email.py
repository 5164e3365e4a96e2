"""Email goes to the outbox: in-process, over /_emulator/outbox and with `lumi emulator outbox`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lumi.emulator.cli import emulator as emulator_command
from lumi.emulator.server import Emulator

from .conftest import PID, Api

SEND = f"/lm/{PID}/email/send"


def test_sent_mail_is_in_the_outbox(api: Api, emu: Emulator) -> None:
    body = {
        "to": ["a@example.com", "b@example.com"],
        "subject": "Hi",
        "fromName": "Shop",
        "html": "<b>hello</b>",
        "text": "",
        "replyTo": ["support@example.com"],
        "scheduledAt": "2030-01-02T03:04:05.000Z",
    }
    assert api.ok("POST", SEND, body) is None
    [mail] = emu.outbox(PID)
    assert mail["kind"] == "email" and mail["projectId"] == PID
    assert {k: mail[k] for k in body} == body
    over_http = api.http.get(
        emu.url + "/_emulator/outbox", params={"projectId": PID}, headers=emu.private_headers
    ).json()
    assert over_http["code"] == 200 and over_http["data"] == [mail]
    assert emu.outbox("p_other") == []


def test_a_single_address_and_text_only(api: Api, emu: Emulator) -> None:
    api.ok("POST", SEND, {"to": "x@example.com", "subject": "S", "text": "plain"})
    [mail] = emu.outbox()
    assert mail["to"] == ["x@example.com"] and mail["text"] == "plain" and mail["html"] is None


def test_validation_like_the_js_client(api: Api, emu: Emulator) -> None:
    cases = {
        "to is required: a non-empty list of email addresses": {"subject": "s", "text": "t"},
        "subject is required": {"to": ["a@example.com"], "text": "t"},
        "html or text is required": {"to": ["a@example.com"], "subject": "s", "text": ""},
        "to contains 'nobody', which is not an email address": {
            "to": ["nobody"],
            "subject": "s",
            "text": "t",
        },
        "scheduledAt must be an ISO-8601 date-time": {
            "to": ["a@example.com"],
            "subject": "s",
            "text": "t",
            "scheduledAt": "tomorrow",
        },
    }
    for message, body in cases.items():
        assert api.error("POST", SEND, body) == {"code": 10400, "message": message, "data": None}
    assert emu.outbox() == []


def test_outbox_command_reads_a_data_dir(tmp_path: Path) -> None:
    with Emulator(data_dir=tmp_path) as emu:
        Api(emu.url).ok("POST", SEND, {"to": ["r@example.com"], "subject": "Report", "text": "x"})
    result = CliRunner().invoke(emulator_command, ["outbox", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"[{PID}] to r@example.com: Report" in result.output


def test_outbox_command_asks_a_running_emulator(api: Api, emu: Emulator) -> None:
    api.ok("POST", SEND, {"to": ["q@example.com"], "subject": "Live", "text": "x"})
    result = CliRunner().invoke(emulator_command, ["outbox", "--url", emu.url, "--json"])
    assert result.exit_code == 0, result.output
    assert '"subject": "Live"' in result.output


def test_outbox_command_without_an_emulator(tmp_path: Path) -> None:
    result = CliRunner().invoke(emulator_command, ["outbox", "--url", "http://127.0.0.1:9"])
    assert result.exit_code != 0 and "no emulator answers" in result.output
    result = CliRunner().invoke(emulator_command, ["outbox", "--data", str(tmp_path / "none")])
    assert result.exit_code != 0 and "holds no emulator data" in result.output
