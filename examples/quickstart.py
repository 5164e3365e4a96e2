"""The main job, end to end on the local emulator: `make demo`.

Starts the emulator in-process, then drives every part of the client through it: OTP sign-up,
sign-in, entity CRUD with filters, sort and pages, email (read back from the outbox), file upload,
download and delete, AI text, stream and image, and a function call. Each step prints a line.
It prints the emulator console's URL first; with --keep the emulator stays up afterwards, so that
the console shows what the demo did.
Point LUMI_API_BASE_URL at a real project instead and the same client calls go to Lumi.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

import requests

import lumi
from lumi.emulator import Emulator

HERE = Path(__file__).resolve().parent
PROJECT = "p_quickstart"
EMAIL = "ada@example.com"


def step(title: str, detail: object = "") -> None:
    print(f"  ✓ {title:<42} {detail}", flush=True)


def run(base_url: str, emulator: Emulator) -> None:
    os.environ.setdefault("LUMI_API_KEY", "lk_demo")  # the emulator accepts any AI key
    client = lumi.create_client(project_id=PROJECT, api_base_url=base_url)

    print("auth")
    client.auth.send_otp(email=EMAIL, type="register")
    otp = emulator.latest_otp(EMAIL, PROJECT)
    step("send_otp -> code read from the outbox", otp)
    signed_up = client.auth.sign_up_with_password(email=EMAIL, password="correct horse", otp=otp or "", user_name="Ada")
    step("sign_up_with_password", f"user {signed_up.user.user_id} ({signed_up.user.user_role})")
    client.auth.sign_out()
    signed_in = client.auth.sign_in_with_password(email=EMAIL, password="correct horse")
    step("sign_in_with_password", f"token {'*' * 8} for {signed_in.user.email}")
    step("refresh_user", client.auth.refresh_user().user_name)

    print("entities")
    books = client.entities.Books
    created = books.create_many(
        [
            {"title": "Dune", "year": 1965, "tags": ["sf", "classic"], "rating": 4.6},
            {"title": "Neuromancer", "year": 1984, "tags": ["sf", "cyberpunk"], "rating": 4.1},
            {"title": "Emma", "year": 1815, "tags": ["classic"], "rating": 4.0},
            {"title": "Hyperion", "year": 1989, "tags": ["sf"], "rating": 4.3},
        ]
    )
    step("create_many", f"{len(created)} books, creator {created[0].creator}")
    sf = books.list(filter={"tags": "sf", "year": {"$gte": 1980}}, sort={"rating": -1})
    step("list(filter, sort)", [b.title for b in sf.list])
    page = books.list(filter={"$or": [{"tags": "classic"}, {"rating": {"$gt": 4.2}}]}, sort={"year": 1}, limit=2, skip=1)
    step("list(limit=2, skip=1) -> one page", f"{[b.title for b in page.list]} of {page.total}")
    dune = created[0]
    updated = books.update(dune.id, {"rating": 4.7, "stats.reads": 1})
    step("update (dotted key)", f"rating {updated.rating}, stats {updated.stats}")
    step("get", books.get(dune.id).title)
    books.delete(dune.id)
    books.delete_many([b.id for b in created[1:]])
    step("delete + delete_many", f"{books.list().total} left")

    print("email")
    client.tools.email.send(to=EMAIL, subject="Your reading list", html="<p>4 books</p>", from_name="Books")
    mail = [m for m in emulator.outbox(PROJECT) if m["subject"] == "Your reading list"]
    step("email.send -> emulator outbox", f"{len(mail)} message to {mail[0]['to']}")

    print("files")
    uploaded = client.tools.file.upload([("notes.txt", b"remember the milk", "text/plain")])
    url = uploaded[0].file_url
    assert isinstance(url, str)
    step("file.upload", url)
    step("download", requests.get(url, timeout=10).content.decode())
    client.tools.file.delete([url])
    step("file.delete", f"now HTTP {requests.get(url, timeout=10).status_code}")

    print("ai")
    answer = client.tools.ai.generate_text(messages=[{"role": "user", "content": "Recommend a book"}])
    step("generate_text", answer.content)
    with client.tools.ai.generate_text_stream(messages=[{"role": "user", "content": "Tell a story"}]) as stream:
        chunks = [chunk.data.content for chunk in stream]
    step("generate_text_stream", f"{len(chunks)} chunks: {''.join(str(c) for c in chunks)[:50]}...")
    image = client.tools.ai.generate_image(messages=[{"role": "user", "content": "A book cover"}])
    png = requests.get(str(image.image_url), timeout=10).content
    step("generate_image (PROCESSING -> SUCCESS)", f"{image.generation_status}, PNG {len(png)} bytes")

    print("functions")
    reply = client.functions.invoke("greet", body={"name": "Ada"})
    step("functions.invoke('greet')", reply)


def main() -> int:
    keep = "--keep" in sys.argv[1:]
    print("Starting the local Lumi emulator...")
    with Emulator(functions=HERE / "quickstart_functions.py") as emulator:
        print(f"  emulator at {emulator.url}")
        print(f"Console: {emulator.console_url}\n")
        run(emulator.url, emulator)
        print("\nDone: every call above went through the lumi client over HTTP to the emulator.")
        if keep:
            print(f"The console shows what the demo did: {emulator.console_url}")
            print("Press Ctrl+C to stop the emulator.")
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
        else:
            print("Run `python examples/quickstart.py --keep` to look around in the console after.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
