"""One ``entities.get`` through the client vs a raw ``requests.Session`` call, same local server.

The raw call sends the same bytes (it signs too, with the same signing function), so the ratio
shows what the client adds: path building, options, retries bookkeeping, envelope decoding and
structuring into a typed Record.
"""

from __future__ import annotations

import json

import requests

import lumi
from lumi.signing import sign_headers
from tests.support.recorder import RecordingServer

from ._timing import compare, report

DOC = {"_id": "6939311e8458665713e0b522", "title": "Hello", "views": 3, "tags": ["a", "b"]}
ENVELOPE = json.dumps({"code": 200, "message": "success", "data": DOC}).encode()


def _respond(_request):
    return 200, {"Content-Type": "application/json"}, ENVELOPE


def main(calls: int = 200) -> None:
    with RecordingServer(_respond) as server:
        client = lumi.create_client(project_id="p1", api_base_url=server.url, rate_limit=None)
        session = requests.Session()
        url = f"{server.url}/lm/p1/Posts/documents/{DOC['_id']}"

        def raw() -> object:
            response = session.get(url, headers=sign_headers(None, None), timeout=(5, 60))
            return response.json()["data"]

        def typed() -> object:
            return client.entities.Posts.get(DOC["_id"])

        rows = compare(
            {"raw requests.Session + json": raw, "lumi client entities.get -> Record": typed},
            calls,
        )
    report("entities.get over loopback HTTP", rows, "raw requests.Session + json")


if __name__ == "__main__":
    main()
