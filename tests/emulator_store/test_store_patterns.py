"""USAGE-PATTERNS.md sections A-C replayed against the entity store, one test per pattern.

Each test sends the store what the emulator's server receives for that call (after the SDK has
dropped undefined values and unknown keys) and checks the documents that come back.
"""

from __future__ import annotations

import re
from typing import Any

from lumi.emulator.store import EntityStore

P = "p354701818687631360"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def names(page: list[dict[str, Any]], field: str = "name") -> list[Any]:
    return [doc.get(field) for doc in page]


def add(store: EntityStore, entity: str, *docs: dict[str, Any]) -> list[dict[str, Any]]:
    return store.create_many(P, entity, list(docs), None)


# ---- A. entities.list: filters -------------------------------------------------------------


def test_pattern_01_list_everything_in_server_order(store: EntityStore) -> None:
    add(store, "orders", {"name": "o1"}, {"name": "o2"}, {"name": "o3"})
    add(store, "other", {"name": "elsewhere"})
    page, total = store.find(P, "orders", None, None, None, None)
    assert names(page) == ["o1", "o2", "o3"]
    assert total == 3


def test_pattern_02_string_equality_newest_first(store: EntityStore) -> None:
    add(
        store,
        "notifications",
        {"name": "old", "user_id": "u1", "createdAt": "2026-01-01T00:00:00.000Z"},
        {"name": "other user", "user_id": "u2", "createdAt": "2026-01-03T00:00:00.000Z"},
        {"name": "new", "user_id": "u1", "createdAt": "2026-01-02T00:00:00.000Z"},
    )
    page, total = store.find(P, "notifications", {"user_id": "u1"}, {"createdAt": -1}, None, None)
    assert names(page) == ["new", "old"]
    assert total == 2


def test_pattern_03_limit_one_reports_all_matches(store: EntityStore) -> None:
    add(store, "user_profiles", {"name": "a", "user_id": "u1"}, {"name": "b", "user_id": "u1"})
    add(store, "user_profiles", {"name": "c", "user_id": "u2"})
    page, total = store.find(P, "user_profiles", {"user_id": "u1"}, None, 1, None)
    assert names(page) == ["a"]
    assert total == 2


def test_pattern_04_boolean_equality_numeric_sort(store: EntityStore) -> None:
    add(
        store,
        "capacitations",
        {"name": "few", "is_active": True, "enrollment_count": 3},
        {"name": "one-not-true", "is_active": 1, "enrollment_count": 99},
        {"name": "string-true", "is_active": "true", "enrollment_count": 98},
        {"name": "many", "is_active": True, "enrollment_count": 10.5},
        {"name": "inactive", "is_active": False, "enrollment_count": 50},
    )
    filter = {"is_active": True}
    page, total = store.find(P, "capacitations", filter, {"enrollment_count": -1}, None, None)
    assert names(page) == ["many", "few"]
    assert total == 2


def test_pattern_05_false_equality_and_iso_gte(store: EntityStore) -> None:
    add(
        store,
        "daily_checkins",
        {"name": "recent", "is_private": False, "created_at": "2026-03-05T08:00:00.000Z"},
        {"name": "old", "is_private": False, "created_at": "2026-02-01T08:00:00.000Z"},
        {"name": "private", "is_private": True, "created_at": "2026-03-06T08:00:00.000Z"},
        {"name": "zero", "is_private": 0, "created_at": "2026-03-06T09:00:00.000Z"},
        {"name": "no flag", "created_at": "2026-03-06T10:00:00.000Z"},
        {"name": "newest", "is_private": False, "created_at": "2026-03-07T08:00:00.000Z"},
    )
    filter = {"is_private": False, "created_at": {"$gte": "2026-03-01T00:00:00.000Z"}}
    page, total = store.find(P, "daily_checkins", filter, {"created_at": -1}, None, None)
    assert names(page) == ["newest", "recent"]
    assert total == 2


def test_pattern_06_day_range_ne_and_limit(store: EntityStore) -> None:
    day = "2026-03-01"
    docs = [
        {
            "name": f"c{i:02d}",
            "is_private": False,
            "user_id": f"u{i}",
            "created_at": f"{day}T{i:02d}:00:00.000Z",
        }
        for i in range(24)
    ]
    docs += [
        {
            "name": "mine",
            "is_private": False,
            "user_id": "me",
            "created_at": f"{day}T12:30:00.000Z",
        },
        {"name": "end", "is_private": False, "user_id": "x", "created_at": f"{day}T23:59:59.999Z"},
        {
            "name": "next",
            "is_private": False,
            "user_id": "x",
            "created_at": "2026-03-02T00:00:00.000Z",
        },
        {"name": "no-user", "is_private": False, "created_at": f"{day}T00:30:00.000Z"},
    ]
    add(store, "daily_checkins", *docs)
    filter = {
        "created_at": {"$gte": f"{day}T00:00:00.000Z", "$lt": f"{day}T23:59:59.999Z"},
        "is_private": False,
        "user_id": {"$ne": "me"},
    }
    page, total = store.find(P, "daily_checkins", filter, {"created_at": -1}, 20, None)
    assert total == 25  # 24 hourly + "no-user" ($ne matches a missing field); not mine/end/next
    assert names(page) == [f"c{i:02d}" for i in range(23, 3, -1)]
    page, total = store.find(P, "daily_checkins", filter, {"created_at": -1}, 20, 20)
    assert names(page) == ["c03", "c02", "c01", "no-user", "c00"]
    assert total == 25


def test_pattern_07_in_on_scalar_field(store: EntityStore) -> None:
    add(
        store,
        "user_profiles",
        *({"name": f"n{i}", "user_id": f"u{i}"} for i in range(6)),
    )
    page, total = store.find(
        P, "user_profiles", {"user_id": {"$in": ["u4", "u1", "zz"]}}, None, None, None
    )
    assert names(page) == ["n1", "n4"]
    assert total == 2


def test_pattern_08_in_strings_ascending_limit(store: EntityStore) -> None:
    statuses = ["agendada", "confirmada", "cancelada", "agendada", "confirmada", "agendada", "x"]
    add(
        store,
        "lessons",
        *(
            {
                "name": f"l{i}",
                "student_id": "s1",
                "status": status,
                "scheduledDate": f"2026-04-{10 - i:02d}",
            }
            for i, status in enumerate(statuses)
        ),
        {
            "name": "other student",
            "student_id": "s2",
            "status": "agendada",
            "scheduledDate": "2026-01-01",
        },
    )
    filter = {"student_id": "s1", "status": {"$in": ["agendada", "confirmada"]}}
    page, total = store.find(P, "lessons", filter, {"scheduledDate": 1}, 5, None)
    assert names(page) == ["l5", "l4", "l3", "l1", "l0"]
    assert total == 5


def test_pattern_09_in_against_array_field(store: EntityStore) -> None:
    add(
        store,
        "instructors",
        {"name": "ana", "categories": ["A", "B"], "status": "ativo"},
        {"name": "bia", "categories": ["B"], "status": "ativo"},
        {"name": "caio", "categories": ["A"], "status": "inativo"},
        {"name": "dan", "categories": "A", "status": "ativo"},
        {"name": "eva", "categories": [], "status": "ativo"},
    )
    filter = {"categories": {"$in": ["A"]}, "status": "ativo"}
    page, total = store.find(P, "instructors", filter, None, None, None)
    assert names(page) == ["ana", "dan"]
    assert total == 2


def test_pattern_10_closed_range_plus_in(store: EntityStore) -> None:
    add(
        store,
        "lessons",
        {
            "name": "start",
            "instructor_id": "i1",
            "scheduledDate": "2026-05-01",
            "status": "agendada",
        },
        {
            "name": "end",
            "instructor_id": "i1",
            "scheduledDate": "2026-05-07",
            "status": "confirmada",
        },
        {
            "name": "after",
            "instructor_id": "i1",
            "scheduledDate": "2026-05-08",
            "status": "agendada",
        },
        {
            "name": "cancelled",
            "instructor_id": "i1",
            "scheduledDate": "2026-05-03",
            "status": "cancelada",
        },
        {
            "name": "other",
            "instructor_id": "i2",
            "scheduledDate": "2026-05-03",
            "status": "agendada",
        },
        {
            "name": "numeric date",
            "instructor_id": "i1",
            "scheduledDate": 20260503,
            "status": "agendada",
        },
    )
    filter = {
        "instructor_id": "i1",
        "scheduledDate": {"$gte": "2026-05-01", "$lte": "2026-05-07"},
        "status": {"$in": ["agendada", "confirmada"]},
    }
    page, total = store.find(P, "lessons", filter, None, None, None)
    assert names(page) == ["start", "end"]
    assert total == 2


def test_pattern_11_filter_built_key_by_key_sorted_by_id(store: EntityStore) -> None:
    docs = add(
        store,
        "questions",
        *(
            {
                "name": f"q{i}",
                "active": i != 2,
                "license": ["B", "A"] if i % 2 else ["B"],
                "category": "signs" if i < 5 else "rules",
            }
            for i in range(8)
        ),
    )
    filter: dict[str, Any] = {"active": True, "license": {"$in": ["A"]}}
    page, total = store.find(P, "questions", filter, {"_id": 1}, 30, None)
    assert names(page) == ["q1", "q3", "q5", "q7"]
    assert total == 4
    assert [d["_id"] for d in page] == sorted(d["_id"] for d in docs if d["name"] in names(page))
    filter["category"] = "signs"
    page, total = store.find(P, "questions", filter, {"_id": -1}, 30, None)
    assert names(page) == ["q3", "q1"]


def test_pattern_12_regex_anchored_prefix(store: EntityStore) -> None:
    add(
        store,
        "daily_checkins",
        {"name": "today", "user_id": "u1", "checkin_date": "2026-03-01T09:00:00.000Z"},
        {"name": "yesterday", "user_id": "u1", "checkin_date": "2026-02-28T09:00:00.000Z"},
        {"name": "not at start", "user_id": "u1", "checkin_date": "x2026-03-01"},
        {"name": "other user", "user_id": "u2", "checkin_date": "2026-03-01T10:00:00.000Z"},
    )
    filter = {"user_id": "u1", "checkin_date": {"$regex": "^2026-03-01"}}
    page, total = store.find(P, "daily_checkins", filter, None, None, None)
    assert names(page) == ["today"]
    assert total == 1


def test_pattern_13_case_insensitive_or_search_total_counts_all(store: EntityStore) -> None:
    docs = [
        {
            "name": f"n{i}",
            "status": "active",
            "email": f"user{i}@Mail.com",
            "username": f"user{i}",
            "referral_code": f"R{i}",
            "createdAt": f"2026-01-{i + 1:02d}T00:00:00.000Z",
        }
        for i in range(10)
    ]
    docs[3]["email"] = "someone@else.org"
    docs[3]["username"] = "SMITH"
    docs[4]["status"] = "blocked"
    docs.append(
        {
            "name": "code",
            "status": "active",
            "referral_code": "xSmithy",
            "createdAt": "2026-02-01T00:00:00.000Z",
        }
    )
    add(store, "users", *docs)
    search = "smith"
    filter = {
        "status": "active",
        "$or": [
            {"email": {"$regex": search, "$options": "i"}},
            {"username": {"$regex": search, "$options": "i"}},
            {"referral_code": {"$regex": search, "$options": "i"}},
        ],
    }
    page, total = store.find(P, "users", filter, {"createdAt": -1}, 1, 0)
    assert names(page) == ["code"]
    assert total == 2
    page, total = store.find(P, "users", filter, {"createdAt": -1}, 1, 1)
    assert names(page) == ["n3"]
    assert total == 2
    broad = {**filter, "$or": [{"email": {"$regex": "MAIL", "$options": "i"}}]}
    page, total = store.find(P, "users", broad, {"createdAt": -1}, 3, 2)
    assert total == 8  # n0..n9 minus n3 (other mail) and n4 (blocked)
    assert names(page) == ["n7", "n6", "n5"]


def test_pattern_14_or_of_equalities(store: EntityStore) -> None:
    add(
        store,
        "users",
        {"name": "a", "email": "a@x.io", "username": "alpha"},
        {"name": "b", "email": "b@x.io", "username": "beta"},
        {"name": "c", "email": "c@x.io", "username": "gamma"},
    )
    filter = {"$or": [{"email": "c@x.io"}, {"username": "alpha"}]}
    page, total = store.find(P, "users", filter, None, None, None)
    assert names(page) == ["a", "c"]
    assert total == 2
    page, total = store.find(
        P, "users", {"$or": [{"email": "no"}, {"username": "no"}]}, None, None, None
    )
    assert (page, total) == ([], 0)


def test_pattern_15_or_with_a_branch_emptied_by_undefined(store: EntityStore) -> None:
    add(
        store,
        "quote_requests",
        {"name": "by id", "userId": "u1", "createdAt": "2026-01-01T00:00:00.000Z"},
        {"name": "by mail", "email": "u1@x.io", "createdAt": "2026-01-02T00:00:00.000Z"},
        {"name": "stranger", "userId": "u9", "createdAt": "2026-01-03T00:00:00.000Z"},
    )
    filter = {"$or": [{"userId": "u1"}, {"email": "u1@x.io"}]}
    page, _ = store.find(P, "quote_requests", filter, {"createdAt": -1}, None, None)
    assert names(page) == ["by mail", "by id"]
    # user undefined: {userId: undefined} and {email: undefined} arrive as {}: matches everything.
    page, total = store.find(P, "quote_requests", {"$or": [{}, {}]}, {"createdAt": -1}, None, None)
    assert names(page) == ["stranger", "by mail", "by id"]
    assert total == 3


def test_pattern_16_exists(store: EntityStore) -> None:
    add(
        store,
        "quote_requests",
        {"name": "dated", "scheduledDate": "2026-05-01"},
        {"name": "null date", "scheduledDate": None},
        {"name": "undated"},
    )
    page, total = store.find(
        P, "quote_requests", {"scheduledDate": {"$exists": True}}, None, None, None
    )
    assert names(page) == ["dated", "null date"]
    assert total == 2
    page, _ = store.find(
        P, "quote_requests", {"scheduledDate": {"$exists": False}}, None, None, None
    )
    assert names(page) == ["undated"]


def test_pattern_17_lt_on_iso_string(store: EntityStore) -> None:
    add(
        store,
        "notes",
        {"name": "stale", "status": "ferme", "updatedAt": "2026-01-01T00:00:00.000Z"},
        {"name": "fresh", "status": "ferme", "updatedAt": "2026-03-01T00:00:00.000Z"},
        {"name": "open", "status": "ouvert", "updatedAt": "2026-01-01T00:00:00.000Z"},
    )
    filter = {"status": "ferme", "updatedAt": {"$lt": "2026-02-01T00:00:00.000Z"}}
    page, total = store.find(P, "notes", filter, None, None, None)
    assert names(page) == ["stale"]
    assert total == 1


def test_pattern_18_id_equality_as_24_hex_string(store: EntityStore) -> None:
    docs = add(store, "deposits", {"name": "d1"}, {"name": "d2"})
    target = docs[1]["_id"]
    assert re.fullmatch(r"[0-9a-f]{24}", target)
    page, total = store.find(P, "deposits", {"_id": target}, None, None, None)
    assert names(page) == ["d2"]
    assert total == 1
    page, _ = store.find(P, "deposits", {"_id": target.upper()}, None, None, None)
    assert names(page) == ["d2"]  # an ObjectId is bytes: hex case does not matter
    assert store.find(P, "deposits", {"_id": "0" * 24}, None, None, None) == ([], 0)


def test_pattern_19_id_plus_owner_check(store: EntityStore) -> None:
    docs = add(
        store,
        "generated_api_keys",
        {"name": "k1", "user_id": "u1"},
        {"name": "k2", "user_id": "u2"},
    )
    key_id = docs[0]["_id"]
    page, total = store.find(
        P, "generated_api_keys", {"_id": key_id, "user_id": "u1"}, None, None, None
    )
    assert names(page) == ["k1"]
    assert total == 1
    assert store.find(
        P, "generated_api_keys", {"_id": key_id, "user_id": "u2"}, None, None, None
    ) == ([], 0)


def test_pattern_20_three_field_equality_login(store: EntityStore) -> None:
    add(
        store,
        "doctors",
        {"name": "ok", "doctorCode": "D1", "password": "pw", "isActive": True},
        {"name": "inactive", "doctorCode": "D1", "password": "pw", "isActive": False},
        {"name": "wrong pw", "doctorCode": "D1", "password": "PW", "isActive": True},
    )
    filter = {"doctorCode": "D1", "password": "pw", "isActive": True}
    page, total = store.find(P, "doctors", filter, None, None, None)
    assert names(page) == ["ok"]
    assert total == 1


def test_pattern_21_undefined_value_leaves_empty_filter(store: EntityStore) -> None:
    add(
        store,
        "profiles",
        {"name": "a", "user_id": "u1"},
        {"name": "b", "user_id": "u2"},
        {"name": "c"},
    )
    page, total = store.find(P, "profiles", {}, None, None, None)
    assert names(page) == ["a", "b", "c"]
    assert total == 3


def test_pattern_22_no_filter_key_with_sort(store: EntityStore) -> None:
    add(
        store,
        "jobs",
        {"name": "mid", "createdAt": "2026-01-02T00:00:00.000Z"},
        {"name": "new", "createdAt": "2026-01-03T00:00:00.000Z"},
        {"name": "old", "createdAt": "2026-01-01T00:00:00.000Z"},
    )
    page, total = store.find(P, "jobs", None, {"createdAt": -1}, None, None)
    assert names(page) == ["new", "mid", "old"]
    assert total == 3


def test_pattern_23_sdk_dropped_where_and_order_by(store: EntityStore) -> None:
    add(store, "tenants", {"name": "t1", "subdomain": "a"}, {"name": "t2", "subdomain": "b"})
    # The SDK drops `where`/`orderBy`: the server sees {limit: 1} only.
    page, total = store.find(P, "tenants", None, None, 1, None)
    assert names(page) == ["t1"]
    assert total == 2


def test_pattern_24_two_key_sort(store: EntityStore) -> None:
    add(
        store,
        "user_applications",
        {"name": "a", "applied_at": "2026-01-01", "created_at": "2026-01-01T01:00:00.000Z"},
        {"name": "b", "applied_at": "2026-01-02", "created_at": "2026-01-01T00:00:00.000Z"},
        {"name": "c", "applied_at": "2026-01-01", "created_at": "2026-01-01T02:00:00.000Z"},
        {"name": "d", "created_at": "2026-01-05T00:00:00.000Z"},
    )
    sort = {"applied_at": -1, "created_at": -1}
    page, total = store.find(P, "user_applications", None, sort, None, None)
    assert names(page) == ["b", "c", "a", "d"]  # missing applied_at is null: last when descending
    assert total == 4


# ---- B. sort / limit / skip ----------------------------------------------------------------


def test_pattern_25_multi_key_sort_key_order_matters(store: EntityStore) -> None:
    add(
        store,
        "servicios",
        {"name": "n1", "categoria": "boda", "nombre": "Zeta"},
        {"name": "n2", "categoria": "album", "nombre": "Beta"},
        {"name": "n3", "categoria": "boda", "nombre": "Alfa"},
        {"name": "n4", "categoria": "album", "nombre": "Alfa"},
    )
    page, _ = store.find(P, "servicios", None, {"categoria": 1, "nombre": 1}, None, None)
    assert names(page) == ["n4", "n2", "n3", "n1"]
    page, _ = store.find(P, "servicios", None, {"nombre": 1, "categoria": 1}, None, None)
    assert names(page) == ["n4", "n3", "n2", "n1"]


def test_pattern_26_mixed_types_in_multi_key_sort(store: EntityStore) -> None:
    add(
        store,
        "reservas",
        {"name": "str-b", "prioridade": "alta", "createdAt": "2026-01-02T00:00:00.000Z"},
        {"name": "num-2", "prioridade": 2, "createdAt": "2026-01-01T00:00:00.000Z"},
        {"name": "missing", "createdAt": "2026-01-09T00:00:00.000Z"},
        {"name": "num-1b", "prioridade": 1.0, "createdAt": "2026-01-05T00:00:00.000Z"},
        {"name": "null", "prioridade": None, "createdAt": "2026-01-03T00:00:00.000Z"},
        {"name": "num-1a", "prioridade": 1, "createdAt": "2026-01-04T00:00:00.000Z"},
        {"name": "bool", "prioridade": True, "createdAt": "2026-01-01T00:00:00.000Z"},
        {"name": "str-a", "prioridade": "alta", "createdAt": "2026-01-01T00:00:00.000Z"},
    )
    page, _ = store.find(P, "reservas", None, {"prioridade": 1, "createdAt": 1}, None, None)
    # null and missing tie (then createdAt) < numbers (1 == 1.0) < strings < booleans
    assert names(page) == ["null", "missing", "num-1a", "num-1b", "num-2", "str-a", "str-b", "bool"]


def test_pattern_27_computed_sort_field(store: EntityStore) -> None:
    add(
        store,
        "posts",
        {"name": "p1", "status": "published", "category": "go", "views": 5, "likes": 9},
        {"name": "p2", "status": "published", "category": "go", "views": 50, "likes": 1},
        {"name": "p3", "status": "draft", "category": "go", "views": 500, "likes": 90},
        {"name": "p4", "status": "published", "category": "py", "views": 5000, "likes": 0},
    )
    filter = {"status": "published", "category": "go"}
    for sort_by, expected in (("views", ["p2", "p1"]), ("likes", ["p1", "p2"])):
        page, total = store.find(P, "posts", filter, {sort_by: -1}, None, None)
        assert names(page) == expected
        assert total == 2


def test_pattern_28_sort_on_missing_field(store: EntityStore) -> None:
    add(
        store,
        "orders",
        {"name": "o1", "createdAt": "2026-01-03T00:00:00.000Z"},
        {"name": "o2", "createdAt": "2026-01-01T00:00:00.000Z"},
        {"name": "o3", "createdAt": "2026-01-02T00:00:00.000Z"},
    )
    page, total = store.find(P, "orders", None, {"created_at": -1}, None, None)
    assert names(page) == ["o1", "o2", "o3"]  # every key is null: insertion order
    assert total == 3
    add(store, "orders", {"name": "o4", "created_at": "2026-01-01T00:00:00.000Z"})
    page, _ = store.find(P, "orders", None, {"created_at": 1}, None, None)
    assert names(page) == ["o1", "o2", "o3", "o4"]  # missing first when ascending
    page, _ = store.find(P, "orders", None, {"created_at": -1}, None, None)
    assert names(page) == ["o4", "o1", "o2", "o3"]


def test_pattern_29_offset_pagination(store: EntityStore) -> None:
    # 120 deposits, many sharing a timestamp: pages must still be disjoint and complete.
    add(
        store,
        "deposits",
        *(
            {
                "name": f"d{i:03d}",
                "status": "pending",
                "createdAt": f"2026-01-{1 + i // 10:02d}T00:00:00.000Z",
            }
            for i in range(120)
        ),
    )
    add(
        store,
        "deposits",
        {"name": "done", "status": "approved", "createdAt": "2026-02-01T00:00:00.000Z"},
    )
    filter = {"status": "pending"}
    pages = []
    for skip in (0, 50, 100):
        page, total = store.find(P, "deposits", filter, {"createdAt": -1}, 50, skip)
        assert total == 120
        pages.append(names(page))
    assert [len(p) for p in pages] == [50, 50, 20]
    seen = [name for page in pages for name in page]
    assert len(set(seen)) == 120
    # newest day first; inside a day, insertion order (the stable tiebreak)
    assert seen[:10] == [f"d{i:03d}" for i in range(110, 120)]
    assert seen == names(store.find(P, "deposits", filter, {"createdAt": -1}, None, None)[0])


def test_pattern_30_big_limit_gets_everything(store: EntityStore) -> None:
    add(store, "users", *({"name": f"u{i}"} for i in range(30)))
    page, total = store.find(P, "users", None, None, 1000, None)
    assert len(page) == total == 30


def test_pattern_31_skip_without_limit_is_dropped_by_the_sdk(store: EntityStore) -> None:
    add(store, "items", *({"name": f"i{i}"} for i in range(25)))
    # The SDK sends /list with {filter, sort} only: the server asks the store without skip.
    page, total = store.find(P, "items", {}, None, None, None)
    assert len(page) == 25 and total == 25
    # The store itself honours skip when it is given (paged endpoint).
    page, total = store.find(P, "items", {}, None, None, 20)
    assert names(page) == [f"i{i}" for i in range(20, 25)]
    assert total == 25


# ---- C. get / create / update / delete -----------------------------------------------------


def test_pattern_32_get_then_write_counter_back(store: EntityStore) -> None:
    post = store.create(P, "posts", {"title": "hello"}, "u1")
    fetched = store.get(P, "posts", post["_id"])
    assert fetched == post
    for _ in range(3):
        current = store.get(P, "posts", post["_id"])
        assert current is not None
        updated = store.update(P, "posts", post["_id"], {"views": (current.get("views") or 0) + 1})
        assert updated is not None
    final = store.get(P, "posts", post["_id"])
    assert final is not None and final["views"] == 3 and final["title"] == "hello"


def test_pattern_33_create_nested_with_client_system_fields(store: EntityStore) -> None:
    now = "2026-03-01T10:00:00.000Z"
    doc = {
        "participants": [{"userId": "u1", "userName": "Ann", "userRole": "USER"}],
        "unreadCount": {"u1": 0},
        "creator": "u1",
        "createdAt": now,
        "updatedAt": now,
        "isGroup": False,
    }
    created = store.create(P, "conversations", doc, "someone-else")
    assert re.fullmatch(r"[0-9a-f]{24}", created["_id"])
    assert {k: v for k, v in created.items() if k != "_id"} == doc  # the app's values are kept
    assert store.get(P, "conversations", created["_id"]) == created
    page, _ = store.find(P, "conversations", {"participants.userId": "u1"}, None, None, None)
    assert [d["_id"] for d in page] == [created["_id"]]


def test_pattern_34_create_sets_missing_system_fields(store: EntityStore) -> None:
    data = {"name": "LED strip", "price": float("12.5"), "createdAt": "2026-02-01T00:00:00.000Z"}
    created = store.create(P, "products", data, "u7")
    assert created["price"] == 12.5
    assert created["createdAt"] == "2026-02-01T00:00:00.000Z"  # theirs
    assert created["creator"] == "u7"  # from the signed-in user
    assert ISO.fullmatch(created["updatedAt"])  # ours
    anonymous = store.create(P, "products", {"name": "x"}, None)
    assert anonymous["creator"] is None
    assert anonymous["createdAt"] == anonymous["updatedAt"] and ISO.fullmatch(
        anonymous["createdAt"]
    )


def test_pattern_35_partial_update_returns_full_doc(store: EntityStore) -> None:
    task = store.create(P, "tasks", {"title": "t", "done": False, "tags": ["a"]}, "u1")
    now = "2030-01-01T00:00:00.000Z"
    updated = store.update(P, "tasks", task["_id"], {"done": True, "updatedAt": now})
    assert updated == {**task, "done": True, "updatedAt": now}
    assert store.get(P, "tasks", task["_id"]) == updated


def test_pattern_36_plain_partial_update(store: EntityStore) -> None:
    old = "2020-01-01T00:00:00.000Z"
    note = store.create(
        P, "notifications", {"text": "hi", "is_read": False, "updatedAt": old}, None
    )
    updated = store.update(
        P, "notifications", note["_id"], {"is_read": True, "read_at": "2026-03-01T00:00:00.000Z"}
    )
    assert updated is not None
    assert updated["is_read"] is True and updated["read_at"] == "2026-03-01T00:00:00.000Z"
    assert updated["text"] == "hi" and updated["createdAt"] == note["createdAt"]
    assert updated["updatedAt"] != old and ISO.fullmatch(updated["updatedAt"])


def test_pattern_37_dotted_keys_set_nested_fields(store: EntityStore) -> None:
    question = store.create(P, "questions", {"text": "q", "statistics": {"views": 7}}, None)
    update = {"statistics.totalAnswers": 4, "statistics.successRate": 0.5, "meta.a.b": "deep"}
    updated = store.update(P, "questions", question["_id"], update)
    assert updated is not None
    assert updated["statistics"] == {"views": 7, "totalAnswers": 4, "successRate": 0.5}
    assert updated["meta"] == {"a": {"b": "deep"}}
    assert "statistics.totalAnswers" not in updated


def test_pattern_38_whole_doc_sent_back_with_system_fields(store: EntityStore) -> None:
    old = "2020-01-01T00:00:00.000Z"
    user = store.create(P, "usuarios", {"nome": "Rui", "updatedAt": old}, "u1")
    sent_back = {**user, "creator": "intruder", "ultimoLogin": "2026-03-01T10:00:00.000Z"}
    updated = store.update(P, "usuarios", user["_id"], sent_back)
    assert updated is not None
    assert updated["_id"] == user["_id"]
    assert updated["creator"] == "u1"  # creator is not changed by an update
    assert updated["createdAt"] == user["createdAt"]
    assert updated["ultimoLogin"] == "2026-03-01T10:00:00.000Z"
    # updatedAt came back unchanged (an echo, not a choice): it is refreshed
    assert updated["updatedAt"] > old and ISO.fullmatch(updated["updatedAt"])


def test_pattern_39_nested_object_replaced_whole(store: EntityStore) -> None:
    conversation = store.create(P, "conversations", {"unreadCount": {"u1": 2, "u2": 5}}, None)
    updated = store.update(P, "conversations", conversation["_id"], {"unreadCount": {"u1": 3}})
    assert updated is not None and updated["unreadCount"] == {"u1": 3}


def test_pattern_40_delete(store: EntityStore) -> None:
    task = store.create(P, "tasks", {"title": "t"}, None)
    keep = store.create(P, "tasks", {"title": "keep"}, None)
    assert store.delete(P, "tasks", task["_id"]) is True
    assert store.get(P, "tasks", task["_id"]) is None
    assert store.delete(P, "tasks", task["_id"]) is False
    assert store.find(P, "tasks", None, None, None, None) == ([keep], 1)


def test_pattern_41_delete_many_by_ids(store: EntityStore) -> None:
    docs = add(store, "quote_requests", *({"name": f"q{i}"} for i in range(4)))
    ids = [docs[0]["_id"], docs[2]["_id"].upper(), "69048e6c4bf40d73d7bb4a40", "not-an-id"]
    assert store.delete_many(P, "quote_requests", ids) == 2
    page, total = store.find(P, "quote_requests", None, None, None, None)
    assert names(page) == ["q1", "q3"]
    assert total == 2
