"""The call shapes of /work/shared/USAGE-PATTERNS.md (A, B, C: #1-41; D, server side: #43-51),
replayed through the Python client against the emulator.

Each test seeds what the app would have stored, makes the call as a Python user writes the app's
JavaScript call, and asserts the exact records, order and total. JavaScript drops ``undefined``
values from JSON, so a JS filter holding one is written here without that key (#15, #21, #22).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import lumi
from lumi import LumiClient, Page, Record
from lumi.emulator.server import Emulator

HERE = Path(__file__).resolve().parent
PID = "p_test"  # the project of the plugin's lumi_client
MAX_FILE_SIZE = 1024


@pytest.fixture(scope="module")
def _patterns_emulator() -> Iterator[Emulator]:
    with Emulator(
        functions=HERE / "usage_pattern_functions.py", max_file_size=MAX_FILE_SIZE
    ) as emulator:
        yield emulator


@pytest.fixture
def lumi_emulator(_patterns_emulator: Emulator) -> Emulator:
    """The plugin's fixture, overridden for this module: one emulator with the apps' functions
    and a small file limit, emptied before each test (``lumi_client`` is bound to it)."""
    _patterns_emulator.reset()
    return _patterns_emulator


# --- helpers --------------------------------------------------------------------------------
def seed(client: LumiClient, entity: str, docs: list[dict[str, Any]]) -> list[Record]:
    return client.entities[entity].create_many(docs)


def field(page: Page, key: str = "name") -> list[Any]:
    return [record[key] for record in page.list]


def sign_up(
    client: LumiClient, emulator: Emulator, email: str, password: str = "secret"
) -> lumi.SignInResult:
    client.auth.send_otp(email=email, type="register")
    otp = emulator.latest_otp(email, PID)
    assert otp is not None
    return client.auth.sign_up_with_password(email=email, password=password, otp=otp)


def iso(day: int, hour: int = 12) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:00:00.000Z"


# --- A. entities.list: filters ---------------------------------------------------------------
def test_pattern_01_list_everything(lumi_client: LumiClient) -> None:
    """`orders.list()`: every document, in server (insertion) order, total = length."""
    seed(lumi_client, "orders", [{"name": n} for n in ("o1", "o2", "o3")])
    page = lumi_client.entities.orders.list()
    assert field(page) == ["o1", "o2", "o3"]
    assert page.total == 3


def test_pattern_02_equality_and_descending_sort(lumi_client: LumiClient) -> None:
    """`notifications.list({filter: {user_id}, sort: {createdAt: -1}})`."""
    seed(
        lumi_client,
        "notifications",
        [
            {"name": "n1", "user_id": "u1", "createdAt": iso(1)},
            {"name": "n2", "user_id": "u2", "createdAt": iso(2)},
            {"name": "n3", "user_id": "u1", "createdAt": iso(3)},
            {"name": "n4", "user_id": "u1", "createdAt": iso(2)},
        ],
    )
    page = lumi_client.entities.notifications.list(filter={"user_id": "u1"}, sort={"createdAt": -1})
    assert field(page) == ["n3", "n4", "n1"]
    assert page.total == 3


def test_pattern_03_truthy_limit_pages(lumi_client: LumiClient) -> None:
    """`user_profiles.list({filter: {user_id}, limit: 1})`: the paged endpoint, `{list, total}`."""
    seed(
        lumi_client,
        "user_profiles",
        [
            {"name": "p1", "user_id": "u1"},
            {"name": "p2", "user_id": "u2"},
            {"name": "p3", "user_id": "u1"},
        ],
    )
    page = lumi_client.entities.user_profiles.list(filter={"user_id": "u1"}, limit=1)
    assert field(page) == ["p1"]
    assert page.total == 2  # every match, not the page's length


def test_pattern_04_boolean_equality_numeric_sort(lumi_client: LumiClient) -> None:
    """`capacitations.list({filter: {is_active: true}, sort: {enrollment_count: -1}})`."""
    seed(
        lumi_client,
        "capacitations",
        [
            {"name": "c1", "is_active": True, "enrollment_count": 5},
            {"name": "c2", "is_active": False, "enrollment_count": 50},
            {"name": "c3", "is_active": True, "enrollment_count": 12},
            {"name": "c4", "is_active": 1, "enrollment_count": 99},  # 1 is not true
            {"name": "c5", "is_active": True, "enrollment_count": 7.5},
        ],
    )
    page = lumi_client.entities.capacitations.list(
        filter={"is_active": True}, sort={"enrollment_count": -1}
    )
    assert field(page) == ["c3", "c5", "c1"]


def test_pattern_05_false_equality_and_gte_on_iso_strings(lumi_client: LumiClient) -> None:
    """`daily_checkins.list({filter: {is_private: false, created_at: {$gte: iso7dAgo}},
    sort: {created_at: -1}})`: ISO strings compare as strings."""
    seed(
        lumi_client,
        "daily_checkins",
        [
            {"name": "old", "is_private": False, "created_at": iso(1)},
            {"name": "edge", "is_private": False, "created_at": iso(8, 0)},
            {"name": "new", "is_private": False, "created_at": iso(14)},
            {"name": "private", "is_private": True, "created_at": iso(14)},
            {"name": "no-flag", "created_at": iso(14)},  # missing is not false
        ],
    )
    page = lumi_client.entities.daily_checkins.list(
        filter={"is_private": False, "created_at": {"$gte": iso(8, 0)}},
        sort={"created_at": -1},
    )
    assert field(page) == ["new", "edge"]


def test_pattern_06_range_on_one_field_and_ne(lumi_client: LumiClient) -> None:
    """`daily_checkins.list({filter: {created_at: {$gte: d+'T00:00:00.000Z',
    $lt: d+'T23:59:59.999Z'}, is_private: false, user_id: {$ne: uid}},
    sort: {created_at: -1}, limit: 20})`."""
    seed(
        lumi_client,
        "daily_checkins",
        [
            {"name": "mine", "user_id": "me", "is_private": False, "created_at": iso(5, 9)},
            {"name": "a", "user_id": "u1", "is_private": False, "created_at": iso(5, 8)},
            {"name": "b", "user_id": "u2", "is_private": False, "created_at": iso(5, 20)},
            {"name": "c", "user_id": "u3", "is_private": True, "created_at": iso(5, 10)},
            {"name": "d", "user_id": "u4", "is_private": False, "created_at": iso(6, 0)},
            {"name": "e", "user_id": "u5", "is_private": False, "created_at": iso(4, 23)},
        ],
    )
    d = "2026-03-05"
    page = lumi_client.entities.daily_checkins.list(
        filter={
            "created_at": {"$gte": f"{d}T00:00:00.000Z", "$lt": f"{d}T23:59:59.999Z"},
            "is_private": False,
            "user_id": {"$ne": "me"},
        },
        sort={"created_at": -1},
        limit=20,
    )
    assert field(page) == ["b", "a"]
    assert page.total == 2


def test_pattern_07_in_on_a_scalar_field(lumi_client: LumiClient) -> None:
    """`user_profiles.list({filter: {user_id: {$in: userIds}}})`, ids from an earlier list."""
    seed(
        lumi_client,
        "checkin_interactions",
        [{"user_id": "u1"}, {"user_id": "u3"}, {"user_id": "u1"}],
    )
    seed(lumi_client, "user_profiles", [{"name": f"p{i}", "user_id": f"u{i}"} for i in (1, 2, 3)])
    interactions = lumi_client.entities.checkin_interactions.list()
    user_ids = sorted({record["user_id"] for record in interactions.list})
    page = lumi_client.entities.user_profiles.list(filter={"user_id": {"$in": user_ids}})
    assert field(page) == ["p1", "p3"]


def test_pattern_08_in_strings_ascending_sort_limit(lumi_client: LumiClient) -> None:
    """`lessons.list({filter: {student_id, status: {$in: ['agendada','confirmada']}},
    sort: {scheduledDate: 1}, limit: 5})`."""
    statuses = ["agendada", "confirmada", "cancelada"]
    seed(
        lumi_client,
        "lessons",
        [
            {
                "name": f"l{i}",
                "student_id": "s1",
                "status": statuses[i % 3],
                "scheduledDate": iso(20 - i),
            }
            for i in range(9)
        ]
        + [{"name": "other", "student_id": "s2", "status": "agendada", "scheduledDate": iso(1)}],
    )
    page = lumi_client.entities.lessons.list(
        filter={"student_id": "s1", "status": {"$in": ["agendada", "confirmada"]}},
        sort={"scheduledDate": 1},
        limit=5,
    )
    # l0..l8 are scheduled on days 20..12; l2, l5, l8 are cancelled.
    assert field(page) == ["l7", "l6", "l4", "l3", "l1"]
    assert page.total == 6


def test_pattern_09_in_against_an_array_field(lumi_client: LumiClient) -> None:
    """`instructors.list({filter: {categories: {$in: [cat]}, status: 'ativo'}})`: an array field
    matches when any element is in the list."""
    seed(
        lumi_client,
        "instructors",
        [
            {"name": "i1", "categories": ["A", "B"], "status": "ativo"},
            {"name": "i2", "categories": ["A"], "status": "ativo"},
            {"name": "i3", "categories": ["B", "D"], "status": "inativo"},
            {"name": "i4", "categories": "B", "status": "ativo"},
            {"name": "i5", "categories": [], "status": "ativo"},
        ],
    )
    page = lumi_client.entities.instructors.list(
        filter={"categories": {"$in": ["B"]}, "status": "ativo"}
    )
    assert field(page) == ["i1", "i4"]


def test_pattern_10_closed_range_plus_in(lumi_client: LumiClient) -> None:
    """`lessons.list({filter: {instructor_id, scheduledDate: {$gte: a, $lte: b},
    status: {$in: [...]}}})`."""
    seed(
        lumi_client,
        "lessons",
        [
            {
                "name": "before",
                "instructor_id": "i1",
                "scheduledDate": iso(9),
                "status": "agendada",
            },
            {"name": "from", "instructor_id": "i1", "scheduledDate": iso(10), "status": "agendada"},
            {
                "name": "mid",
                "instructor_id": "i1",
                "scheduledDate": iso(11),
                "status": "confirmada",
            },
            {"name": "to", "instructor_id": "i1", "scheduledDate": iso(12), "status": "agendada"},
            {
                "name": "after",
                "instructor_id": "i1",
                "scheduledDate": iso(13),
                "status": "agendada",
            },
            {
                "name": "gone",
                "instructor_id": "i1",
                "scheduledDate": iso(11),
                "status": "cancelada",
            },
            {
                "name": "other",
                "instructor_id": "i2",
                "scheduledDate": iso(11),
                "status": "agendada",
            },
        ],
    )
    page = lumi_client.entities.lessons.list(
        filter={
            "instructor_id": "i1",
            "scheduledDate": {"$gte": iso(10), "$lte": iso(12)},
            "status": {"$in": ["agendada", "confirmada"]},
        }
    )
    assert field(page) == ["from", "mid", "to"]


@pytest.mark.parametrize(
    ("category", "expected"),
    [(None, ["q1", "q2", "q4"]), ("placas", ["q1", "q4"])],
    ids=["without-category", "with-category"],
)
def test_pattern_11_filter_built_key_by_key_sorted_by_id(
    lumi_client: LumiClient, category: str | None, expected: list[str]
) -> None:
    """`questions.list({filter: {active: true, license: {$in: [lic]}, category?}, limit: 30,
    sort: {_id: 1}})`: the app adds `category` only when chosen; `_id` order is creation order."""
    seed(
        lumi_client,
        "questions",
        [
            {"name": "q1", "active": True, "license": "B", "category": "placas"},
            {"name": "q2", "active": True, "license": "B", "category": "mecanica"},
            {"name": "q3", "active": False, "license": "B", "category": "placas"},
            {"name": "q4", "active": True, "license": ["A", "B"], "category": "placas"},
            {"name": "q5", "active": True, "license": "A", "category": "placas"},
        ],
    )
    query: dict[str, Any] = {"active": True, "license": {"$in": ["B"]}}
    if category is not None:
        query["category"] = category
    page = lumi_client.entities.questions.list(filter=query, limit=30, sort={"_id": 1})
    assert field(page) == expected
    assert page.total == len(expected)


def test_pattern_12_anchored_regex_prefix(lumi_client: LumiClient) -> None:
    """`daily_checkins.list({filter: {user_id, checkin_date: {$regex: `^${today}`}}})`."""
    seed(
        lumi_client,
        "daily_checkins",
        [
            {"name": "today", "user_id": "u1", "checkin_date": "2026-03-05T08:00:00.000Z"},
            {"name": "yesterday", "user_id": "u1", "checkin_date": "2026-03-04T08:00:00.000Z"},
            {"name": "not-prefix", "user_id": "u1", "checkin_date": "x2026-03-05"},
            {"name": "other-user", "user_id": "u2", "checkin_date": "2026-03-05T09:00:00.000Z"},
        ],
    )
    page = lumi_client.entities.daily_checkins.list(
        filter={"user_id": "u1", "checkin_date": {"$regex": "^2026-03-05"}}
    )
    assert field(page) == ["today"]


USERS_13 = [
    {
        "name": "ana",
        "email": "ana@x.io",
        "username": "ana",
        "referral_code": "R1",
        "status": "active",
    },
    {
        "name": "bob",
        "email": "BOB@x.io",
        "username": "bobby",
        "referral_code": "R2",
        "status": "active",
    },
    {
        "name": "cat",
        "email": "cat@x.io",
        "username": "catBob",
        "referral_code": "R3",
        "status": "banned",
    },
    {
        "name": "dan",
        "email": "dan@x.io",
        "username": "dan",
        "referral_code": "BOB9",
        "status": "active",
    },
    {
        "name": "eve",
        "email": "eve@x.io",
        "username": "eve",
        "referral_code": "R5",
        "status": "active",
    },
]


@pytest.mark.parametrize(
    ("status", "skip", "expected", "total"),
    [
        (None, 0, ["dan", "cat"], 3),
        (None, 2, ["bob"], 3),
        ("active", 0, ["dan", "bob"], 2),
    ],
    ids=["all-page-1", "all-page-2", "active-only"],
)
def test_pattern_13_case_insensitive_or_search_with_total(
    lumi_client: LumiClient, status: str | None, skip: int, expected: list[str], total: int
) -> None:
    """`users.list({filter: {status?, $or: [{email: {$regex: s, $options: 'i'}}, {username: ...},
    {referral_code: ...}]}, sort: {createdAt: -1}, limit, skip})`: total counts every match."""
    seed(lumi_client, "users", [{**u, "createdAt": iso(i + 1)} for i, u in enumerate(USERS_13)])
    search = "bob"
    query: dict[str, Any] = {
        "$or": [
            {"email": {"$regex": search, "$options": "i"}},
            {"username": {"$regex": search, "$options": "i"}},
            {"referral_code": {"$regex": search, "$options": "i"}},
        ]
    }
    if status is not None:
        query["status"] = status
    page = lumi_client.entities.users.list(filter=query, sort={"createdAt": -1}, limit=2, skip=skip)
    assert field(page) == expected
    assert page.total == total


def test_pattern_14_or_of_equalities(lumi_client: LumiClient) -> None:
    """`users.list({filter: {$or: [{email}, {username}]}})`: a uniqueness check."""
    seed(
        lumi_client,
        "users",
        [
            {"name": "u1", "email": "a@x.io", "username": "alpha"},
            {"name": "u2", "email": "b@x.io", "username": "beta"},
            {"name": "u3", "email": "c@x.io", "username": "gamma"},
        ],
    )
    taken = lumi_client.entities.users.list(
        filter={"$or": [{"email": "a@x.io"}, {"username": "gamma"}]}
    )
    assert field(taken) == ["u1", "u3"]
    free = lumi_client.entities.users.list(
        filter={"$or": [{"email": "z@x.io"}, {"username": "zeta"}]}
    )
    assert (field(free), free.total) == ([], 0)


@pytest.mark.parametrize(
    ("signed_in", "expected"),
    [(True, ["mine-by-id", "mine-by-email"]), (False, ["other", "mine-by-id", "mine-by-email"])],
    ids=["user", "user-undefined"],
)
def test_pattern_15_or_with_undefined_branches(
    lumi_client: LumiClient, signed_in: bool, expected: list[str]
) -> None:
    """`quote_requests.list({filter: {$or: [{userId: user?.userId}, {email: user?.email}]},
    sort: {createdAt: -1}})`: with no user each branch is `{}`, which matches everything."""
    seed(
        lumi_client,
        "quote_requests",
        [
            {"name": "mine-by-id", "userId": "u1", "email": "x@x.io", "createdAt": iso(3)},
            {"name": "mine-by-email", "email": "me@x.io", "createdAt": iso(2)},
            {"name": "other", "userId": "u2", "email": "o@x.io", "createdAt": iso(4)},
        ],
    )
    if signed_in:
        branches: list[dict[str, Any]] = [{"userId": "u1"}, {"email": "me@x.io"}]
    else:
        branches = [{}, {}]  # {userId: undefined} and {email: undefined} as JSON
    page = lumi_client.entities.quote_requests.list(
        filter={"$or": branches}, sort={"createdAt": -1}
    )
    assert field(page) == expected


def test_pattern_16_exists(lumi_client: LumiClient) -> None:
    """`quote_requests.list({filter: {scheduledDate: {$exists: true}}})`: a null value exists."""
    seed(
        lumi_client,
        "quote_requests",
        [
            {"name": "dated", "scheduledDate": iso(1)},
            {"name": "undated"},
            {"name": "null-date", "scheduledDate": None},
        ],
    )
    page = lumi_client.entities.quote_requests.list(filter={"scheduledDate": {"$exists": True}})
    assert field(page) == ["dated", "null-date"]
    missing = lumi_client.entities.quote_requests.list(filter={"scheduledDate": {"$exists": False}})
    assert field(missing) == ["undated"]


def test_pattern_17_lt_on_iso_string(lumi_client: LumiClient) -> None:
    """`notes.list({filter: {status: 'ferme', updatedAt: {$lt: thirtyDaysAgoIso}}})`."""
    cutoff = iso(1)
    seed(
        lumi_client,
        "notes",
        [
            {"name": "stale", "status": "ferme", "updatedAt": "2026-01-15T00:00:00.000Z"},
            {"name": "at-cutoff", "status": "ferme", "updatedAt": cutoff},
            {"name": "fresh", "status": "ferme", "updatedAt": iso(20)},
            {"name": "open", "status": "ouvert", "updatedAt": "2026-01-15T00:00:00.000Z"},
        ],
    )
    page = lumi_client.entities.notes.list(filter={"status": "ferme", "updatedAt": {"$lt": cutoff}})
    assert field(page) == ["stale"]


def test_pattern_18_equality_on_id_as_hex_string(lumi_client: LumiClient) -> None:
    """`deposits.list({filter: {_id: body.deposit_id}})` with a 24-hex string."""
    created = seed(lumi_client, "deposits", [{"name": f"d{i}"} for i in range(3)])
    wanted = created[1].id
    assert isinstance(wanted, str) and len(wanted) == 24
    page = lumi_client.entities.deposits.list(filter={"_id": wanted})
    assert [record.id for record in page.list] == [wanted]
    assert field(page) == ["d1"]
    unknown = lumi_client.entities.deposits.list(filter={"_id": "0" * 24})
    assert unknown.total == 0


@pytest.mark.parametrize(("owner", "found"), [("u1", True), ("u2", False)])
def test_pattern_19_id_plus_owner_check(lumi_client: LumiClient, owner: str, found: bool) -> None:
    """`generated_api_keys.list({filter: {_id: apiKeyId, user_id: uid}})`."""
    created = seed(
        lumi_client,
        "generated_api_keys",
        [{"name": "k1", "user_id": "u1"}, {"name": "k2", "user_id": "u2"}],
    )
    page = lumi_client.entities.generated_api_keys.list(
        filter={"_id": created[0].id, "user_id": owner}
    )
    assert field(page) == (["k1"] if found else [])


@pytest.mark.parametrize(
    ("code", "password", "expected"),
    [("D1", "pw1", ["dr-one"]), ("D1", "wrong", []), ("D2", "pw2", [])],
    ids=["right", "wrong-password", "inactive"],
)
def test_pattern_20_three_field_equality_login(
    lumi_client: LumiClient, code: str, password: str, expected: list[str]
) -> None:
    """`doctors.list({filter: {doctorCode, password, isActive: true}})`."""
    seed(
        lumi_client,
        "doctors",
        [
            {"name": "dr-one", "doctorCode": "D1", "password": "pw1", "isActive": True},
            {"name": "dr-two", "doctorCode": "D2", "password": "pw2", "isActive": False},
        ],
    )
    page = lumi_client.entities.doctors.list(
        filter={"doctorCode": code, "password": password, "isActive": True}
    )
    assert field(page) == expected


def test_pattern_21_undefined_value_drops_out(lumi_client: LumiClient) -> None:
    """`profiles.list({filter: {user_id: user?.userId}})` with no user: the JSON filter is `{}`,
    so every profile comes back. In Python, the same call is a filter without the key."""
    seed(
        lumi_client,
        "profiles",
        [{"name": "p1", "user_id": "u1"}, {"name": "p2", "user_id": "u2"}, {"name": "p3"}],
    )
    user: dict[str, str] | None = None
    query = {"user_id": user["userId"]} if user is not None else {}
    page = lumi_client.entities.profiles.list(filter=query)
    assert field(page) == ["p1", "p2", "p3"]
    # Not the same as Python's None, which is sent as null: MongoDB's "null or missing".
    null_page = lumi_client.entities.profiles.list(filter={"user_id": None})
    assert field(null_page) == ["p3"]


def test_pattern_22_filter_may_be_undefined(lumi_client: LumiClient) -> None:
    """`jobs.list({filter: filters /* undefined */, sort: {createdAt: -1}})`: no filter key."""
    seed(lumi_client, "jobs", [{"name": f"j{i}", "createdAt": iso(i)} for i in (1, 3, 2)])
    filters: dict[str, Any] | None = None
    page = lumi_client.entities.jobs.list(filter=filters, sort={"createdAt": -1})
    assert field(page) == ["j3", "j2", "j1"]


def test_pattern_23_unknown_keys_where_and_order_by(lumi_client: LumiClient) -> None:
    """`tenants.list({where: {subdomain}, limit: 1})`: the JS SDK drops `where`/`orderBy`, so the
    app gets the first tenant, whatever its subdomain. The Python client has no such keywords:
    the mistake is a TypeError naming the key; the JS behaviour is the call without it."""
    seed(
        lumi_client, "tenants", [{"name": "t1", "subdomain": "a"}, {"name": "t2", "subdomain": "b"}]
    )
    tenants = lumi_client.entities.tenants
    with pytest.raises(TypeError, match="where"):
        tenants.list(where={"subdomain": "b"}, limit=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="orderBy"):
        tenants.list(orderBy={"name": -1})  # type: ignore[call-arg]
    page = tenants.list(limit=1)  # what the JS call really sends
    assert (field(page), page.total) == (["t1"], 2)


def test_pattern_24_cache_buster_and_two_key_sort(lumi_client: LumiClient) -> None:
    """`user_applications.list({sort: {applied_at: -1, created_at: -1}, _t: Date.now()})`: `_t`
    is dropped by the JS SDK (a TypeError in Python); the 2-key sort applies."""
    seed(
        lumi_client,
        "user_applications",
        [
            {"name": "a", "applied_at": iso(1), "created_at": iso(1)},
            {"name": "b", "applied_at": iso(2), "created_at": iso(1)},
            {"name": "c", "applied_at": iso(2), "created_at": iso(3)},
            {"name": "d", "applied_at": iso(1), "created_at": iso(5)},
        ],
    )
    sort = {"applied_at": -1, "created_at": -1}
    with pytest.raises(TypeError, match="_t"):
        lumi_client.entities.user_applications.list(sort=sort, _t=1767225600000)  # type: ignore[call-arg]
    page = lumi_client.entities.user_applications.list(sort=sort)
    assert field(page) == ["c", "b", "d", "a"]


# --- B. sort / limit / skip ------------------------------------------------------------------
SERVICES_25 = [
    {"name": "s1", "categoria": "retrato", "nombre": "b"},
    {"name": "s2", "categoria": "boda", "nombre": "c"},
    {"name": "s3", "categoria": "retrato", "nombre": "a"},
    {"name": "s4", "categoria": "boda", "nombre": "a"},
]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ({"categoria": 1, "nombre": 1}, ["s4", "s2", "s3", "s1"]),
        ({"nombre": 1, "categoria": 1}, ["s4", "s3", "s1", "s2"]),
    ],
    ids=["categoria-first", "nombre-first"],
)
def test_pattern_25_multi_key_sort_order_matters(
    lumi_client: LumiClient, sort: dict[str, int], expected: list[str]
) -> None:
    """`servicios.list({sort: {categoria: 1, nombre: 1}})`: keys apply in the order given."""
    seed(lumi_client, "servicios", SERVICES_25)
    assert field(lumi_client.entities.servicios.list(sort=sort)) == expected


def test_pattern_26_mixed_types_in_a_multi_key_sort(lumi_client: LumiClient) -> None:
    """`reservas.list({sort: {prioridade: 1, createdAt: 1}})` over numbers, strings, null and
    missing: MongoDB's cross-type order (null/missing < numbers < strings), then createdAt."""
    seed(
        lumi_client,
        "reservas",
        [
            {"name": "alta", "prioridade": "alta", "createdAt": iso(1)},
            {"name": "two", "prioridade": 2, "createdAt": iso(2)},
            {"name": "null", "prioridade": None, "createdAt": iso(3)},
            {"name": "one-late", "prioridade": 1, "createdAt": iso(9)},
            {"name": "missing", "createdAt": iso(1)},
            {"name": "one-early", "prioridade": 1.0, "createdAt": iso(4)},
            {"name": "baixa", "prioridade": "baixa", "createdAt": iso(5)},
        ],
    )
    page = lumi_client.entities.reservas.list(sort={"prioridade": 1, "createdAt": 1})
    assert field(page) == ["missing", "null", "one-early", "one-late", "two", "alta", "baixa"]


@pytest.mark.parametrize(
    ("sort_by", "expected"),
    [("views", ["p2", "p3", "p1"]), ("likes", ["p3", "p1", "p2"])],
)
def test_pattern_27_computed_sort_field(
    lumi_client: LumiClient, sort_by: str, expected: list[str]
) -> None:
    """`posts.list({filter: {status: 'published', category}, sort: {[sortBy]: -1}})`."""
    seed(
        lumi_client,
        "posts",
        [
            {"name": "p1", "status": "published", "category": "js", "views": 10, "likes": 5},
            {"name": "p2", "status": "published", "category": "js", "views": 30, "likes": 1},
            {"name": "p3", "status": "published", "category": "js", "views": 20, "likes": 9},
            {"name": "draft", "status": "draft", "category": "js", "views": 99, "likes": 99},
            {"name": "py", "status": "published", "category": "py", "views": 99, "likes": 99},
        ],
    )
    page = lumi_client.entities.posts.list(
        filter={"status": "published", "category": "js"}, sort={sort_by: -1}
    )
    assert field(page) == expected


def test_pattern_28_sort_on_a_missing_field(lumi_client: LumiClient) -> None:
    """`orders.list({sort: {created_at: -1}})` where docs hold only `createdAt`: no error, every
    doc; docs that have the field come first when descending (missing sorts as null)."""
    seed(
        lumi_client,
        "orders",
        [
            {"name": "o1", "createdAt": iso(1)},
            {"name": "o2", "createdAt": iso(2)},
            {"name": "snake", "created_at": iso(3)},
            {"name": "o3", "createdAt": iso(3)},
        ],
    )
    page = lumi_client.entities.orders.list(sort={"created_at": -1})
    names = field(page)
    assert names[0] == "snake"
    assert sorted(names[1:]) == ["o1", "o2", "o3"]  # ties among missing: order unspecified
    ascending = field(lumi_client.entities.orders.list(sort={"created_at": 1}))
    assert ascending[-1] == "snake"


@pytest.mark.parametrize(
    ("skip", "expected"),
    [(0, [f"d{i:02d}" for i in range(59, 9, -1)]), (50, [f"d{i:02d}" for i in range(9, -1, -1)])],
    ids=["page-1", "page-2"],
)
def test_pattern_29_offset_pagination(
    lumi_client: LumiClient, skip: int, expected: list[str]
) -> None:
    """`deposits.list({filter, sort: {createdAt: -1}, limit, skip})` with limit=50, skip=0/50
    from the query string."""
    seed(
        lumi_client,
        "deposits",
        [
            {
                "name": f"d{i:02d}",
                "status": "pending",
                "createdAt": f"2026-03-01T10:{i:02d}:00.000Z",
            }
            for i in range(60)
        ]
        + [{"name": "approved", "status": "approved", "createdAt": iso(2)}],
    )
    query_string = {"limit": "50", "skip": str(skip)}
    page = lumi_client.entities.deposits.list(
        filter={"status": "pending"},
        sort={"createdAt": -1},
        limit=int(query_string["limit"]),
        skip=int(query_string["skip"]),
    )
    assert field(page) == expected
    assert page.total == 60


def test_pattern_30_big_limit_gets_everything(lumi_client: LumiClient) -> None:
    """`users.list({limit: 1000})` (admin stats): every document, total = count."""
    seed(lumi_client, "users", [{"name": f"u{i}"} for i in range(25)])
    page = lumi_client.entities.users.list(limit=1000)
    assert field(page) == [f"u{i}" for i in range(25)]
    assert page.total == 25


def test_pattern_31_skip_without_limit(lumi_client: LumiClient) -> None:
    """`list({skip: 20})`: the JS SDK sends `/list` without skip, so skip is silently ignored.
    The Python client refuses it instead (ValidationError naming skip); the JS-equivalent call
    is a list without skip, which returns everything."""
    seed(lumi_client, "items", [{"name": f"i{i}"} for i in range(25)])
    with pytest.raises(lumi.ValidationError, match="skip"):
        lumi_client.entities.items.list(skip=20)
    page = lumi_client.entities.items.list()
    assert (len(page.list), page.total) == (25, 25)


# --- C. get / create / update / delete -------------------------------------------------------
def test_pattern_32_read_then_write_counter(lumi_client: LumiClient) -> None:
    """`const p = await posts.get(id); await posts.update(id, {views: (p.views || 0) + 1})`."""
    counted, fresh = seed(lumi_client, "posts", [{"name": "p1", "views": 41}, {"name": "p2"}])
    posts = lumi_client.entities.posts
    for record, expected in ((counted, 42), (fresh, 1)):
        current = posts.get(record.id)
        assert current is not None and current.id == record.id
        updated = posts.update(record.id, {"views": (current.get("views") or 0) + 1})
        assert updated["views"] == expected
        again = posts.get(record.id)
        assert again is not None and again["views"] == expected
    assert posts.get("0" * 24) is None


def test_pattern_33_create_nested_with_client_timestamps(
    lumi_client: LumiClient, lumi_emulator: Emulator
) -> None:
    """`conversations.create({participants: [{userId, userName, userRole}], unreadCount:
    {[uid]: 0}, creator: uid, createdAt: now, updatedAt: now, isGroup: false})` → `result._id`."""
    uid = sign_up(lumi_client, lumi_emulator, "ana@example.com").user.user_id
    now = "2026-03-05T10:00:00.000Z"
    document = {
        "participants": [{"userId": uid, "userName": "ana", "userRole": "USER"}],
        "unreadCount": {uid: 0},
        "creator": uid,
        "createdAt": now,
        "updatedAt": now,
        "isGroup": False,
    }
    result = lumi_client.entities.conversations.create(document)
    assert len(result.id) == 24 and all(c in "0123456789abcdef" for c in result.id)
    assert result["_id"] == result.id
    assert {key: result[key] for key in document} == document
    stored = lumi_client.entities.conversations.get(result.id)
    assert stored is not None and {key: stored[key] for key in document} == document


def test_pattern_34_create_with_float_and_timestamps(lumi_client: LumiClient) -> None:
    """`products.create({...data, price: parseFloat(...), createdAt, updatedAt})`: the app's
    timestamps are kept; an anonymous write has no creator."""
    now = "2026-03-05T10:00:00.000Z"
    data = {"name": "LED strip", "stock": 3}
    product = lumi_client.entities.products.create(
        {**data, "price": float("19.90"), "createdAt": now, "updatedAt": now}
    )
    assert product["price"] == 19.9 and isinstance(product["price"], float)
    assert (product.created_at, product.updated_at) == (now, now)
    assert product.creator is None
    assert (product["name"], product["stock"]) == ("LED strip", 3)


def test_pattern_35_partial_merge_returns_the_whole_doc(lumi_client: LumiClient) -> None:
    """`tasks.update(taskId, {...updates, updatedAt: now})` → the full updated document."""
    (task,) = seed(
        lumi_client,
        "tasks",
        [
            {
                "title": "write",
                "status": "todo",
                "priority": 2,
                "createdAt": iso(1),
                "updatedAt": iso(1),
            }
        ],
    )
    now = iso(5)
    updated = lumi_client.entities.tasks.update(task.id, {"status": "done", "updatedAt": now})
    assert dict(updated) == {
        "_id": task.id,
        "creator": None,
        "createdAt": iso(1),
        "updatedAt": now,
        "title": "write",
        "status": "done",
        "priority": 2,
    }


def test_pattern_36_plain_partial_update(lumi_client: LumiClient) -> None:
    """`notifications.update(id, {is_read: true, read_at: now})`."""
    (note,) = seed(lumi_client, "notifications", [{"text": "hi", "is_read": False}])
    updated = lumi_client.entities.notifications.update(
        note.id, {"is_read": True, "read_at": iso(5)}
    )
    assert (updated["is_read"], updated["read_at"], updated["text"]) == (True, iso(5), "hi")
    listed = lumi_client.entities.notifications.list(filter={"is_read": True})
    assert [record.id for record in listed.list] == [note.id]


def test_pattern_37_dotted_path_keys_set_nested_fields(lumi_client: LumiClient) -> None:
    """`questions.update(q._id, {'statistics.totalAnswers': n, 'statistics.successRate': r,
    updatedAt})`: `$set` semantics, other nested fields kept."""
    (question,) = seed(
        lumi_client,
        "questions",
        [{"text": "q", "statistics": {"totalAnswers": 1, "successRate": 1.0, "lastAt": iso(1)}}],
    )
    updated = lumi_client.entities.questions.update(
        question.id,
        {"statistics.totalAnswers": 2, "statistics.successRate": 0.5, "updatedAt": iso(5)},
    )
    assert updated["statistics"] == {"totalAnswers": 2, "successRate": 0.5, "lastAt": iso(1)}
    assert "statistics.totalAnswers" not in updated
    assert updated.updated_at == iso(5)


def test_pattern_38_whole_document_sent_back(
    lumi_client: LumiClient, lumi_emulator: Emulator
) -> None:
    """`usuarios.update(u._id, {...u /* _id, creator, createdAt */, ultimoLogin: now})`."""
    uid = sign_up(lumi_client, lumi_emulator, "ana@example.com").user.user_id
    user = lumi_client.entities.usuarios.create({"nome": "Ana", "createdAt": iso(1)})
    assert user.creator == uid
    updated = lumi_client.entities.usuarios.update(user.id, {**user, "ultimoLogin": iso(5)})
    assert updated.id == user.id
    assert (updated.creator, updated.created_at) == (uid, iso(1))
    assert (updated["nome"], updated["ultimoLogin"]) == ("Ana", iso(5))


def test_pattern_39_nested_object_replaced_as_a_whole(lumi_client: LumiClient) -> None:
    """`conversations.update(id, {unreadCount: {...old, [uid]: n + 1}})`: the object is replaced,
    so a key left out of the new object is gone."""
    (conversation,) = seed(lumi_client, "conversations", [{"unreadCount": {"u1": 0, "u2": 3}}])
    old = conversation["unreadCount"]
    bumped = lumi_client.entities.conversations.update(
        conversation.id, {"unreadCount": {**old, "u1": old["u1"] + 1}}
    )
    assert bumped["unreadCount"] == {"u1": 1, "u2": 3}
    replaced = lumi_client.entities.conversations.update(
        conversation.id, {"unreadCount": {"u1": 0}}
    )
    assert replaced["unreadCount"] == {"u1": 0}


def test_pattern_40_delete_returns_nothing(lumi_client: LumiClient) -> None:
    """`tasks.delete(taskId)`."""
    kept, gone = seed(lumi_client, "tasks", [{"name": "kept"}, {"name": "gone"}])
    assert lumi_client.entities.tasks.delete(gone.id) is None
    assert lumi_client.entities.tasks.get(gone.id) is None
    assert field(lumi_client.entities.tasks.list()) == ["kept"]
    assert lumi_client.entities.tasks.get(kept.id) is not None


def test_pattern_41_delete_many_by_ids(lumi_client: LumiClient) -> None:
    """`quote_requests.deleteMany(["69048e6c4bf40d73d7bb4a40", ...])`: unknown ids are ignored."""
    records = seed(lumi_client, "quote_requests", [{"name": f"q{i}"} for i in range(4)])
    result = lumi_client.entities.quote_requests.delete_many(
        [records[0].id, records[2].id, "69048e6c4bf40d73d7bb4a40"]
    )
    assert result is None
    assert field(lumi_client.entities.quote_requests.list()) == ["q1", "q3"]


# --- D. auth / tools / functions (server side) ------------------------------------------------
def test_pattern_43_sign_in_with_password(lumi_client: LumiClient, lumi_emulator: Emulator) -> None:
    """`auth.signInWithPassword({email, password})` → `{projectId, accessToken, user}`."""
    sign_up(lumi_client, lumi_emulator, "ana@example.com", "s3cret!")
    lumi_client.auth.sign_out()
    assert lumi_client.auth.access_token is None
    result = lumi_client.auth.sign_in_with_password(email="ana@example.com", password="s3cret!")
    assert result.project_id == PID
    assert result.user.email == "ana@example.com"
    assert result.access_token and lumi_client.auth.access_token == result.access_token
    assert lumi_client.auth.user == result.user
    with pytest.raises(lumi.APIError) as wrong:
        lumi_client.auth.sign_in_with_password(email="ana@example.com", password="nope")
    assert wrong.value.code == 10401


def test_pattern_44_otp_sign_up_and_password_reset(
    lumi_client: LumiClient, lumi_emulator: Emulator
) -> None:
    """`sendOtp({email, type: 'register'})`; `signUpWithPassword({email, password, otp,
    userName})`; `sendOtp({type: 'resetPassword'})`; `resetPassword({email, newPassword, otp})`."""
    auth = lumi_client.auth
    auth.send_otp(email="bo@example.com", type="register")
    code = lumi_emulator.latest_otp("bo@example.com", PID)
    assert code is not None and len(code) == 6
    signed_up = auth.sign_up_with_password(
        email="bo@example.com", password="first", otp=code, user_name="Bo"
    )
    assert (signed_up.user.email, signed_up.user.user_name) == ("bo@example.com", "Bo")
    auth.send_otp(email="bo@example.com", type="resetPassword")
    reset_code = lumi_emulator.latest_otp("bo@example.com", PID)
    assert reset_code is not None
    assert (
        auth.reset_password(email="bo@example.com", new_password="second", otp=reset_code) is None
    )
    with pytest.raises(lumi.APIError):
        auth.sign_in_with_password(email="bo@example.com", password="first")
    again = auth.sign_in_with_password(email="bo@example.com", password="second")
    assert again.user.user_id == signed_up.user.user_id


@pytest.mark.parametrize(("caller", "is_admin"), [("first", True), ("second", False)])
def test_pattern_45_server_side_admin_gate(
    lumi_client: LumiClient, lumi_emulator: Emulator, caller: str, is_admin: bool
) -> None:
    """Server: `createClient({projectId, apiBaseUrl, authOrigin, authorization:
    req.headers.get('Authorization')})`; `await lumi.auth.refreshUser()`; `userRole === 'ADMIN'`.
    The project's first user is its ADMIN."""
    tokens = {
        name: sign_up(lumi_client, lumi_emulator, f"{name}@example.com").access_token
        for name in ("first", "second")
    }
    incoming_authorization = f"Bearer {tokens[caller]}"
    server = lumi.create_client(
        project_id=PID,
        api_base_url=lumi_emulator.url,
        auth_origin="https://auth.lumi.new",
        authorization=incoming_authorization,
    )
    try:
        user = server.auth.refresh_user()
    finally:
        server.close()
    assert user.email == f"{caller}@example.com"
    assert (user.user_role == "ADMIN") is is_admin


def test_pattern_46_upload_with_per_file_errors(lumi_client: LumiClient) -> None:
    """`tools.file.upload(Array.from(files))` → `[{fileName, fileUrl?, uploadError?}]`; the app
    keeps `r.fileUrl && !r.uploadError`."""
    small = b"\x89PNG fake image"
    results = lumi_client.tools.file.upload(
        [("photo.png", small), ("huge.bin", b"x" * (MAX_FILE_SIZE + 1)), ("notes.txt", b"hi")]
    )
    assert [r.file_name for r in results] == ["photo.png", "huge.bin", "notes.txt"]
    assert results[1].upload_error and "limit" in str(results[1].upload_error)
    assert not results[1].file_url
    kept = [r.file_url for r in results if r.file_url and not r.upload_error]
    assert len(kept) == 2
    assert requests.get(str(kept[0]), timeout=10).content == small


def test_pattern_47_delete_uploaded_files(lumi_client: LumiClient) -> None:
    """`tools.file.delete([url])`: DELETE `/lm/{pid}/file/batch` with `{fileUrls}`."""
    (kept, gone) = lumi_client.tools.file.upload([("a.txt", b"a"), ("b.txt", b"b")])
    assert lumi_client.tools.file.delete([str(gone.file_url)]) is None
    assert requests.get(str(gone.file_url), timeout=10).status_code == 404
    assert requests.get(str(kept.file_url), timeout=10).content == b"a"


def test_pattern_48_send_email(lumi_client: LumiClient, lumi_emulator: Emulator) -> None:
    """`tools.email.send({to, subject, fromName, html})`: `to` as a string becomes `[to]`,
    `text` defaults to ""; returns nothing."""
    result = lumi_client.tools.email.send(
        to="client@example.com",
        subject="Payment received",
        from_name="Natural Titan",
        html="<p>Thanks!</p>",
    )
    assert result is None
    (mail,) = lumi_emulator.outbox(PID)
    assert {key: mail[key] for key in ("to", "subject", "fromName", "html", "text")} == {
        "to": ["client@example.com"],
        "subject": "Payment received",
        "fromName": "Natural Titan",
        "html": "<p>Thanks!</p>",
        "text": "",
    }


def test_pattern_49_generate_text_on_the_server(
    lumi_client: LumiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server: `tools.ai.generateText({model: 'gemini-2.5-flash', messages: [system, user]})` →
    `{content, chatId}`; needs LUMI_API_KEY."""
    messages = [
        {"role": "system", "content": "You are a financial planner."},
        {"role": "user", "content": "Plan my budget"},
    ]
    monkeypatch.delenv("LUMI_API_KEY", raising=False)
    with pytest.raises(lumi.ValidationError, match="LUMI_API_KEY"):
        lumi_client.tools.ai.generate_text(model="gemini-2.5-flash", messages=messages)
    monkeypatch.setenv("LUMI_API_KEY", "lk_test")
    result = lumi_client.tools.ai.generate_text(model="gemini-2.5-flash", messages=messages)
    assert result.chat_id
    assert "gemini-2.5-flash" in result.content and "Plan my budget" in result.content


def test_pattern_50_invoke_function_returns_its_own_json(
    lumi_client: LumiClient, lumi_emulator: Emulator
) -> None:
    """`functions.invoke('sendQuoteEmail', {method: 'POST', body})` → the function's own JSON;
    on a non-2xx reply apps read `error.data.error`."""
    reply = lumi_client.functions.invoke(
        "sendQuoteEmail", method="POST", body={"email": "c@example.com", "service": "AC repair"}
    )
    assert reply == {"success": True}
    (mail,) = lumi_emulator.outbox(PID)
    assert mail["to"] == ["c@example.com"] and "AC repair" in mail["html"]
    with pytest.raises(lumi.FunctionError) as failed:
        lumi_client.functions.invoke("sendQuoteEmail", method="POST", body={})
    assert failed.value.status == 400
    assert failed.value.data["error"] == "email is required"


def test_pattern_51_caller_authorization_overrides_the_token(
    lumi_client: LumiClient, lumi_emulator: Emulator
) -> None:
    """`functions.invoke('updateIntervenantPassword', {method: 'POST', headers: {Authorization:
    `Bearer ${tok}`}, body})`: the caller's header wins over the client's own token."""
    admin_token = sign_up(lumi_client, lumi_emulator, "admin@example.com").access_token
    sign_up(lumi_client, lumi_emulator, "user@example.com")  # the client now holds this token
    body = {"intervenantId": "i7", "password": "new"}
    with pytest.raises(lumi.FunctionError) as refused:
        lumi_client.functions.invoke("updateIntervenantPassword", method="POST", body=body)
    assert (refused.value.status, refused.value.data) == (403, {"error": "admins only"})
    reply = lumi_client.functions.invoke(
        "updateIntervenantPassword",
        method="POST",
        headers={"Authorization": f"Bearer {admin_token}"},
        body=body,
    )
    assert reply == {"updatedBy": "admin@example.com", "intervenantId": "i7"}
