"""One command: the local Lumi emulator and the Flask notes app, in this process.

python examples/flask_app/run.py            # serve on http://127.0.0.1:5000 until Ctrl-C
python examples/flask_app/run.py --demo     # walk through the API over HTTP, then exit
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from app import create_app  # noqa: E402
from notes_walkthrough import OTP, walkthrough  # noqa: E402

from lumi.emulator import Emulator  # noqa: E402

PROJECT = "p_notes"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def step(title: str, detail: object) -> None:
    print(f"  ✓ {title:<32} {detail}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000, help="the app's port (0: any free one)")
    parser.add_argument("--demo", action="store_true", help="walk through the API, then exit")
    args = parser.parse_args(argv)
    with Emulator(fixed_otp=OTP) as emulator:
        app = create_app(
            {
                "LUMI_PROJECT_ID": PROJECT,
                "LUMI_API_BASE_URL": emulator.url,
                "LUMI_API_KEY": "lk_demo",  # the emulator accepts any AI key
                "LUMI_EVENTS_ENDPOINT": emulator.url,  # its event ingest
                "LUMI_EVENTS_WRITE_KEY": "demo",
            }
        )
        handler = _QuietHandler if args.demo else WSGIRequestHandler
        server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=handler)
        url = f"http://127.0.0.1:{server.port}"
        print(f"emulator at {emulator.url} (one-time codes: {OTP}); notes app at {url}", flush=True)
        if not args.demo:
            print(
                f"try: curl -X POST {url}/api/signup/code -H 'Content-Type: application/json' "
                '-d \'{"email": "ada@example.com"}\'',
                flush=True,
            )
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()
            return 0
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            users = walkthrough(url, step)
        finally:
            server.shutdown()
        app.extensions["lumi"].tracker.flush(10)
        turns = [e for e in emulator.events() if e.get("type") == "turn"]
        step(
            "turn events at the ingest",
            [(t["distinct_id"] == users["ada"], t["message_count"]) for t in turns],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
