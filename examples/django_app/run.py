"""One command: the local Lumi emulator and the Django notes app, in this process.

    python examples/django_app/run.py            # serve on http://127.0.0.1:8000 until Ctrl-C
    python examples/django_app/run.py --demo     # walk through the API over HTTP, then exit

(``python manage.py lumi emulator --fixed-otp 123456`` runs the emulator alone; then
``LUMI_API_BASE_URL=http://127.0.0.1:8787 python manage.py runserver`` the app.)
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

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
    parser.add_argument("--port", type=int, default=8000, help="the app's port (0: any free one)")
    parser.add_argument("--demo", action="store_true", help="walk through the API, then exit")
    args = parser.parse_args(argv)
    with Emulator(fixed_otp=OTP) as emulator:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="django_notes_site.settings",
            LUMI_PROJECT_ID=PROJECT,
            LUMI_API_BASE_URL=emulator.url,
            LUMI_API_KEY="lk_demo",  # the emulator accepts any AI key
            LUMI_EVENTS_ENDPOINT=emulator.url,  # its event ingest
            LUMI_EVENTS_WRITE_KEY="demo",
        )
        from django.core.wsgi import get_wsgi_application

        from lumi.contrib.django import get_integration

        application = get_wsgi_application()
        handler = _QuietHandler if args.demo else WSGIRequestHandler
        server = make_server(
            "127.0.0.1", args.port, application, threaded=True, request_handler=handler
        )
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
        logging.getLogger("django.request").setLevel(logging.ERROR)  # the 4xx steps are expected
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            users = walkthrough(url, step)
        finally:
            server.shutdown()
        tracker = get_integration().tracker
        assert tracker is not None
        tracker.flush(10)
        turns = [e for e in emulator.events() if e.get("type") == "turn"]
        step(
            "turn events at the ingest",
            [(t["distinct_id"] == users["ada"], t["message_count"]) for t in turns],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
