"""`lumi emulator` / `python -m lumi.emulator` as a process."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from lumi.cli import cli

from .conftest import PID, Api


def test_the_command_starts_serves_and_cleans_up() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "lumi.emulator", "--port", "0", "--fixed-otp", "123456"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = []
        while not banner or not banner[-1].startswith("Press Ctrl+C"):
            banner.append(process.stdout.readline())
            assert banner[-1], banner  # the process ended early
        text = "".join(banner)
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", banner[0])
        data = re.search(r"data: (\S+)", banner[1])
        token = re.search(r"token (\S+) \(header X-Lumi-Emulator-Token\)", text)
        assert url and data and token, banner
        assert f"export LUMI_PROJECT_ID=p_local LUMI_API_BASE_URL={url[1]}\n" in text
        assert f'lumi.create_client(project_id="p_local", api_base_url="{url[1]}")' in text
        assert "one-time codes: fixed: every one-time code is 123456" in text
        assert f"{url[1]}/_emulator/login?token={token[1]}&next=/_emulator/" in text
        api = Api(url[1])
        api.send_otp("cli@example.com")
        otp_url = url[1] + "/_emulator/otp"
        refused = api.http.get(otp_url, params={"email": "cli@example.com"})
        assert refused.status_code == 403 and refused.json()["code"] == 10403
        reply = api.http.get(
            otp_url,
            params={"email": "cli@example.com"},
            headers={"X-Lumi-Emulator-Token": token[1]},
        ).json()
        assert reply["data"] == {"otp": "123456"}
        # The subcommands find the token by themselves (the runtime file of the port).
        listed = CliRunner().invoke(cli, ["emulator", "outbox", "--url", url[1], "--json"])
        assert listed.exit_code == 0, listed.output
        assert [m["to"] for m in json.loads(listed.output)] == [["cli@example.com"]]
        assert Path(data[1]).is_dir()
    finally:
        process.send_signal(signal.SIGTERM)
        rest, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert rest.strip().endswith("stopped")
    assert "Traceback" not in stderr
    assert not Path(data[1]).exists()  # the temporary data directory is gone
    assert token[1] not in stderr  # the access log never shows the token


def test_random_otp_mode_is_announced() -> None:
    from lumi.emulator.cli import _banner
    from lumi.emulator.server import Emulator

    with Emulator() as emu:
        text = "\n".join(_banner(emu, temporary=True, fixed_otp=None))
        assert emu.runtime_file is not None and str(emu.runtime_file) in text
    assert "one-time codes: random: read them with `lumi emulator outbox`" in text


def test_bad_options_are_clear_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["emulator", "--port", "0", "--fixed-otp", "12"])
    assert result.exit_code != 0 and "exactly 6 digits" in result.output
    broken = tmp_path / "f.py"
    broken.write_text("def x(:\n")
    result = runner.invoke(cli, ["emulator", "--port", "0", "--functions", str(broken)])
    assert result.exit_code != 0 and "cannot load functions file" in result.output


def test_max_file_size_parsing() -> None:
    from lumi.emulator.cli import _parse_size

    assert _parse_size("10MiB") == 10 * 1024 * 1024
    assert _parse_size("512 kib") == 512 * 1024
    assert _parse_size("2048") == 2048
    result = CliRunner().invoke(cli, ["emulator", "--max-file-size", "big"])
    assert result.exit_code != 0 and "'big' is not a size like 10MiB" in result.output


def test_the_port_in_use_is_a_clear_error() -> None:
    from lumi.emulator.server import Emulator

    with Emulator() as emu:
        result = CliRunner().invoke(cli, ["emulator", "--port", str(emu.port)])
    assert result.exit_code != 0 and f"cannot listen on 127.0.0.1:{emu.port}" in result.output


def test_help_lists_the_subcommands() -> None:
    result = CliRunner().invoke(cli, ["emulator", "--help"])
    assert result.exit_code == 0
    for word in (
        "--data",
        "--fixed-otp",
        "--functions",
        "--api-key",
        "--allow-host",
        "outbox",
        "set-role",
    ):
        assert word in result.output
    assert PID  # the shared project id is importable (keeps the import used)
