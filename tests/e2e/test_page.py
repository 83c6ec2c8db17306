"""The page in a real browser (Chromium through Playwright) against `qa serve` over the seed index
(the `server` fixture, tests/e2e/conftest.py).

Chromium is Debian's (`.ci/run` installs it); Playwright's own browser download cannot work offline.
Every page here must load nothing from another host: requests beyond 127.0.0.1 are recorded and
aborted, and each test asserts there were none.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.seed_server import INJECTED_SOURCE, INJECTED_TITLE

pytestmark = [pytest.mark.model, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(
        "chromium is not installed (`apt-get install -y chromium`; .ci/run does it)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the `test` extra)")

Page = sync_api.Page
MUNIR = "Who did Azerbaijan's defense minister receive on November 1, 2023?"
FERRY = "When does the Baku ferry timetable change?"
PIPELINE = "How did Caspian pipeline oil exports change?"
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Visit:
    """A page in a fresh browser context, with every request beyond this server recorded and aborted."""

    def __init__(self, browser: object, base: str, viewport: dict[str, int], **options: object) -> None:
        self.base = base
        self.context = browser.new_context(viewport=viewport, **options)  # type: ignore[attr-defined]
        self.external: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _route(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.external.append(url)
            route.abort()  # type: ignore[attr-defined]

    def open(self, path: str = "/") -> Page:
        self.page.goto(self.base + path)
        return self.page

    def ask(self, question: str) -> Page:
        """Type `question` and press Enter (on the page, opened first if it is not yet)."""
        if self.page.url == "about:blank":
            self.open()
        self.page.fill("#question", question)
        self.page.press("#question", "Enter")
        self.page.wait_for_selector("#results .card, #error:not([hidden])")
        return self.page

    def close(self) -> None:
        self.context.close()
        assert self.external == [], f"requests beyond the server: {self.external}"
        assert self.errors == [], f"script errors: {self.errors}"


@pytest.fixture
def visit(browser: object, server: str) -> Iterator[Visit]:
    v = Visit(browser, server, DESKTOP)
    yield v
    v.close()


@pytest.fixture
def phone(browser: object, server: str) -> Iterator[Visit]:
    v = Visit(browser, server, PHONE)
    yield v
    v.close()


def cards(page: Page) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#results .card",
        """cards => cards.map(c => ({
            title: c.querySelector("h2").textContent,
            link: c.querySelector("h2 a")?.getAttribute("href") ?? null,
            date: c.querySelector(".meta time")?.getAttribute("datetime") ?? null,
            source: c.querySelector(".meta .source").textContent,
            mark: c.querySelector(".passage mark")?.textContent ?? null,
            passage: c.querySelector(".passage").textContent,
            also: c.querySelector(".also")?.textContent ?? null,
        }))""",
    )


def api(server: str, **params: object) -> dict[str, object]:
    response = httpx.get(f"{server}/search", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# --- asking ----------------------------------------------------------------------------------------


def test_a_question_typed_and_entered_shows_the_answers_as_cards(visit: Visit, server: str) -> None:
    page = visit.ask(MUNIR)
    shown = cards(page)
    expected = api(server, question=MUNIR, k=5)["hits"]

    assert len(shown) == len(expected) == 5  # type: ignore[arg-type]
    top, hit = shown[0], expected[0]  # type: ignore[index]
    assert (top["title"], top["date"], top["source"]) == (hit["title"], "2023-11-01", "News.Az")
    assert top["mark"] == hit["highlight"] and "Munir" in top["mark"]
    # the highlight sits inside its passage (a long one folded around it, the next test)
    assert top["passage"].removeprefix("… ").removesuffix(" …") in hit["text"]
    assert page.text_content("#status") == f"5 answers, as of {api(server, question=MUNIR)['as_of']}."
    assert f"question={MUNIR.split()[0]}" in page.url  # the address can be shared and reloaded


def test_titles_link_to_the_url_and_copies_show_who_also_published(visit: Visit) -> None:
    page = visit.ask(PIPELINE)
    page.wait_for_selector("#results .card .also a")
    top = cards(page)[0]

    assert top["title"] == "Caspian pipeline oil exports rise"
    assert top["link"] in ("https://example.org/report/caspian-oil", "https://example.org/trend/caspian-oil")
    other = "Trend (2024-03-20)" if top["source"] == "Report.az" else "Report.az (2024-03-21)"
    assert top["also"] == f"Also published by {other}"


def test_article_text_is_shown_as_text_never_run_as_html(visit: Visit) -> None:
    page = visit.ask(FERRY)
    top = cards(page)[0]

    assert top["title"] == INJECTED_TITLE and top["source"] == INJECTED_SOURCE
    assert top["link"] is None  # a javascript: url is not made a link
    assert "<script>" in top["passage"] and top["mark"].startswith("The Baku ferry timetable")
    assert (
        page.eval_on_selector_all("#results img, #results script, #results b, #results i", "n => n.length")
        == 0
    )
    assert page.title() == f"{FERRY} — News QA"  # the question, not the article's title


def test_results_are_reachable_with_the_keyboard(visit: Visit) -> None:
    page = visit.open()
    page.keyboard.type(MUNIR)  # the question box has the focus when the page opens
    page.keyboard.press("Enter")
    page.wait_for_selector("#results .card")

    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('#results')"):
            break
    else:
        pytest.fail("30 presses of Tab never reached the results")
    # the first focusable thing of the top seed card (two neighbouring passages, folded): its fold
    assert page.evaluate("document.activeElement.className") == "more"
    page.keyboard.press("Enter")
    page.wait_for_selector("#results .card >> nth=0 >> button.more[aria-expanded=true]")
    page.keyboard.press("Tab")  # then its related articles
    page.keyboard.press("Enter")
    page.wait_for_selector("#results .card >> nth=0 >> .related-list li")


# --- filters, time words, related ----------------------------------------------------------------


def test_the_source_filter_lists_the_archives_sources_and_restricts_the_cards(visit: Visit) -> None:
    page = visit.open()
    page.wait_for_selector("#source option[value='Azernews']", state="attached")
    options = page.eval_on_selector_all("#source option", "os => os.map(o => o.value)")
    page.select_option("#source", "Azernews")
    shown = cards(visit.ask(MUNIR))

    assert options[0] == "" and {"News.Az", "Azernews", "Trend", "Report.az", INJECTED_SOURCE} == set(
        options[1:]
    )
    assert shown and {c["source"] for c in shown} == {"Azernews"}
    assert "sources=Azernews" in page.url


def test_dates_and_k_restrict_the_cards(visit: Visit) -> None:
    page = visit.open()
    page.fill("#since", "2023-01-01")
    page.fill("#until", "2023-12-31")
    page.fill("#k", "2")
    shown = cards(visit.ask(MUNIR))

    assert len(shown) == 2
    assert all("2023-01-01" <= c["date"] <= "2023-12-31" for c in shown)


def test_the_interpreted_window_is_shown_and_can_be_dropped(visit: Visit, server: str) -> None:
    question = "What happened to Caspian oil exports last week?"
    page = visit.open("/?as_of=2024-03-25")
    visit.ask(question)
    read = api(server, question=question, as_of="2024-03-25")["interpreted"]
    banner = page.text_content("#interpreted")
    page.click("#interpreted button")
    page.wait_for_selector("#interpreted:has-text('not read as dates')")

    assert read is not None
    assert f"Reading “last week” as {read['since']} to {read['until']}." in banner  # type: ignore[index]
    assert "interpret=false" in page.url and cards(page)
    page.click("#interpreted button")  # read them again
    page.wait_for_selector("#interpreted:has-text('Reading')")
    assert "interpret=false" not in page.url


def test_the_banner_says_when_no_answer_is_from_the_window(visit: Visit, server: str) -> None:
    """Asked a year after the archive ends, "last week" holds nothing: the cards come from other
    dates, and the banner says so rather than let them pass for last week's news."""
    question = "What happened to Caspian oil exports last week?"
    later = visit.open("/?as_of=2025-06-01")
    visit.ask(question)
    read = api(server, question=question, as_of="2025-06-01")["interpreted"]
    banner = later.text_content("#interpreted") or ""

    assert read is not None and read["inside"] == 0 and not read["filtered"]  # type: ignore[index]
    assert cards(later) and "None of these answers is from then." in banner
    then = visit.open("/?as_of=2024-03-25")  # the week the seeds report on
    visit.ask(question)
    assert api(server, question=question, as_of="2024-03-25")["interpreted"]["inside"] > 0  # type: ignore[index]
    assert "None of these answers" not in (then.text_content("#interpreted") or "")


def test_as_of_can_be_set_to_the_archives_last_day(visit: Visit) -> None:
    page = visit.open()
    page.fill("#question", PIPELINE)
    page.click("#use-newest")
    page.wait_for_selector("#results .card")

    assert page.input_value("#as_of") == "2024-03-21" == page.text_content("#newest")
    assert page.text_content("#status").endswith("as of 2024-03-21.")
    assert page.text_content("#active") == " (1 set)"  # said in the folded filters' summary too


def test_related_articles_open_in_place_and_close_again(visit: Visit, server: str) -> None:
    page = visit.ask(MUNIR)
    card = page.locator("#results .card").first
    toggle = card.locator(".related-toggle")
    toggle.click()
    items = card.locator(".related-list > li")
    items.first.wait_for()
    article_id = api(server, question=MUNIR)["hits"][0]["article_id"]  # type: ignore[index]
    related = httpx.get(f"{server}/articles/{article_id}/related", params={"k": 5}).json()["related"]

    assert toggle.get_attribute("aria-expanded") == "true" and items.count() == len(related) > 0
    assert items.first.locator("a, span").first.text_content() == related[0]["title"]
    said = card.locator(".related [role=status]")  # announced, in a region that was there before its words
    assert said.text_content() == f"{len(related)} related article{'' if len(related) == 1 else 's'}"
    assert (said.bounding_box() or {}).get("width", 0) <= 1  # not shown
    for n, r in enumerate(related):  # a related article's syndicated copies: "also published by"
        also = items.nth(n).locator(".also")
        assert also.count() == bool(r["copies"])
        if r["copies"]:
            assert (also.text_content() or "").startswith("Also published by ")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false" and card.locator(".related").is_hidden()


def test_ignoring_the_dates_keeps_the_focus_and_holds_for_the_next_question(visit: Visit) -> None:
    page = visit.open("/?as_of=2024-03-25")
    visit.ask("What happened to Caspian oil exports last week?")
    page.focus("#interpreted button")
    page.keyboard.press("Enter")  # "Ignore these dates", from the keyboard
    page.wait_for_selector("#interpreted:has-text('not read as dates')")

    assert page.evaluate("document.activeElement.textContent") == "Read them as dates"
    assert not page.is_checked("#interpret") and "(2 set)" in (page.text_content("#filters summary") or "")
    page.fill("#question", "What happened to Caspian pipeline exports last week?")
    page.press("#question", "Enter")
    page.wait_for_url("**pipeline**")
    page.wait_for_selector("#interpreted:has-text('not read as dates')")
    assert "interpret=false" in page.url


@pytest.mark.parametrize(
    ("path", "then"),
    [  # no time words to read: the banner goes; the date filters set the words aside: no button
        (f"/?question={PIPELINE}&interpret=false", "#interpreted[hidden]"),
        (
            "/?question=Caspian oil exports in 2023&since=2024-03-01&interpret=false",
            "#interpreted:has-text('decide')",
        ),
    ],
)
def test_reading_time_words_again_from_the_keyboard_leaves_the_focus_on_the_question(
    visit: Visit, path: str, then: str
) -> None:
    page = visit.open(path)
    page.focus("#interpreted button")  # "Read them as dates"
    page.keyboard.press("Enter")
    page.wait_for_selector(then, state="attached")

    assert page.evaluate("document.activeElement.id") == "question"  # not lost to the page


def test_time_words_set_aside_by_the_date_filters_are_said(visit: Visit) -> None:
    page = visit.open("/?question=Caspian oil exports in 2023&since=2024-03-01")
    page.wait_for_selector("#interpreted:not([hidden])")

    assert page.text_content("#interpreted") == (
        "“in 2023” (2023-01-01 to 2023-12-31) is not read as dates: the Since and Until filters decide."
    )
    assert page.locator("#interpreted button").count() == 0  # nothing to ignore: they are not used


# --- answers that come late, links ---------------------------------------------------------------

SLOW_SEARCH = """
const realFetch = window.fetch;
window.slowSearch = 0;  // ms; while set, /search answers wait, then send half the body and stall
window.fetch = (url, options = {}) => {
  if (!window.slowSearch || !String(url).startsWith("search")) return realFetch(url, options);
  const signal = options.signal;
  return new Promise((resolve, reject) => {
    const abort = () => reject(new DOMException("aborted", "AbortError"));
    signal?.addEventListener("abort", abort);
    setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"hits": ['));
          const stop = () => controller.error(new DOMException("aborted", "AbortError"));
          signal?.addEventListener("abort", stop);
        },
      });
      resolve(new Response(body, { status: 200, headers: { "content-type": "application/json" } }));
    }, window.slowSearch);
  });
};
"""


def test_going_back_drops_an_answer_still_on_its_way(visit: Visit) -> None:
    visit.context.add_init_script(SLOW_SEARCH)
    page = visit.open()
    page.evaluate("window.slowSearch = 300")
    page.fill("#question", MUNIR)
    page.press("#question", "Enter")
    page.go_back()  # to the empty page, while the answer is on its way
    page.wait_for_timeout(600)

    assert page.input_value("#question") == "" and page.title() == "News QA"
    assert page.locator("#results .card").count() == 0 and page.is_hidden("#error")
    assert page.text_content("#status") == ""


def test_a_new_question_replaces_one_whose_answer_is_still_arriving(visit: Visit) -> None:
    visit.context.add_init_script(SLOW_SEARCH)
    page = visit.open()
    page.evaluate("window.slowSearch = 50")  # the first answer's body stalls half-way
    page.fill("#question", MUNIR)
    page.press("#question", "Enter")
    page.wait_for_timeout(200)
    page.evaluate("window.slowSearch = 0")
    visit.ask(PIPELINE)

    assert cards(page)[0]["title"] == "Caspian pipeline oil exports rise"
    assert page.is_hidden("#error")


def test_a_link_with_several_sources_asks_for_all_of_them(visit: Visit, server: str) -> None:
    page = visit.open(f"/?question={PIPELINE}&sources=Trend&sources=Report.az")
    page.wait_for_selector("#results .card")
    chosen = page.eval_on_selector_all("#source option:checked", "os => os.map(o => o.value)")

    assert sorted(chosen) == ["Report.az", "Trend"]
    assert {c["source"] for c in cards(page)} <= {"Trend", "Report.az"}
    assert page.url.count("sources=") == 2  # asked again, neither is dropped
    assert len(cards(page)) == len(
        api(server, question=PIPELINE, sources=["Trend", "Report.az"], k=5)["hits"]
    )


def test_a_link_naming_a_source_in_another_case_chooses_the_archives_own(visit: Visit) -> None:
    # the API matches sources without regard to case; the list shows the archive's name once
    page = visit.open(f"/?question={MUNIR}&sources=news.az")
    page.wait_for_selector("#results .card")
    page.wait_for_selector("#source option[value='News.Az']", state="attached")  # the archive's list
    listed = page.eval_on_selector_all("#source option", "os => os.map(o => o.value)")
    chosen = page.eval_on_selector_all("#source option:checked", "os => os.map(o => o.value)")

    assert chosen == ["News.Az"] and "news.az" not in listed
    assert {c["source"] for c in cards(page)} == {"News.Az"}


def test_an_old_link_with_q_still_asks(visit: Visit) -> None:
    page = visit.open(f"/?q={MUNIR}")
    page.wait_for_selector("#results .card")

    assert page.input_value("#question") == MUNIR and cards(page)


def test_a_link_naming_a_source_the_archive_lacks_says_so(visit: Visit) -> None:
    page = visit.open(f"/?question={MUNIR}&sources=News.Az&sources=Reutres")
    page.wait_for_selector("#status:has-text('Reutres')")

    status = page.text_content("#status") or ""
    assert status.endswith(" No article in the archive is from “Reutres”.")
    assert status.startswith(f"{len(cards(page))} answer") and cards(page)  # News.Az still answers


def test_weak_matches_are_marked_and_an_answer_of_only_weak_ones_says_so(visit: Visit, server: str) -> None:
    answer = api(server, question=MUNIR)
    hits = answer["hits"]
    assert isinstance(hits, list) and len(hits) > 1 and all(h["weak"] in (True, False) for h in hits)
    weak = {**answer, "hits": [{**h, "weak": True} for h in hits]}
    mixed = {**answer, "hits": [{**h, "weak": n != 0} for n, h in enumerate(hits)]}
    served = iter([weak, mixed])
    visit.context.route("**/search?*", lambda route: route.fulfill(json=next(served)))

    page = visit.ask(MUNIR)
    all_weak = page.text_content("#status")
    marked = page.eval_on_selector_all("#results .card .meta .weak", "spans => spans.length")
    page = visit.ask(FERRY)
    page.wait_for_selector("#status:not(:has-text('weakly'))")

    assert all_weak == (
        f"{len(hits)} answers, as of {answer['as_of']}. They match the question only weakly: the"
        " archive may not hold the answer."
    )
    assert marked == len(hits)
    assert page.eval_on_selector_all("#results .card .meta .weak", "spans => spans.length") == len(hits) - 1


def test_an_empty_archive_is_said_to_be_empty(visit: Visit) -> None:
    empty = {"question": MUNIR, "as_of": "2026-01-01", "interpreted": None, "hits": []}
    visit.context.route("**/stats", lambda route: route.fulfill(json={"articles": 0, "passages": 0}))
    visit.context.route("**/search?*", lambda route: route.fulfill(json=empty))
    page = visit.open(f"/?question={MUNIR}")
    page.wait_for_selector("#status:has-text('empty')")

    assert page.text_content("#status") == "The archive is empty: no article has been indexed yet."


def test_nothing_found_in_an_archive_of_articles_without_sources_is_not_called_empty(visit: Visit) -> None:
    """/sources lists only articles that name a source: the count of articles decides."""
    empty = {"question": MUNIR, "as_of": "2026-01-01", "interpreted": None, "hits": []}
    visit.context.route("**/sources", lambda route: route.fulfill(json={"sources": [], "newest": None}))
    visit.context.route("**/search?*", lambda route: route.fulfill(json=empty))
    page = visit.open(f"/?question={MUNIR}")
    page.wait_for_selector("#status:has-text('No passages')")

    assert page.text_content("#status") == "No passages found as of 2026-01-01. Try fewer filters."


def test_an_answer_the_page_cannot_read_is_a_message_not_a_script_error(visit: Visit) -> None:
    visit.context.route("**/search?*", lambda route: route.fulfill(json={"hits": None}))
    visit.ask(MUNIR)

    assert visit.page.text_content("#error") == "The server's answer could not be read."


def test_an_articles_own_copies_open_its_related_articles_not_one_of_them(visit: Visit, server: str) -> None:
    page = visit.ask(PIPELINE)
    card = page.locator("#results .card").first
    card.locator(".related-toggle").click()
    card.locator(".related-list li").first.wait_for()
    top = api(server, question=PIPELINE)["hits"][0]  # type: ignore[index]
    body = httpx.get(f"{server}/articles/{top['article_id']}/related", params={"k": 5}).json()  # type: ignore[index]

    (own,) = body["copies"]
    assert own["article_id"] in top["duplicates"]  # type: ignore[index]  # named by the card already
    assert card.locator(".also").count() == 1 and card.locator(".related .also").count() == 0
    titles = card.locator(".related-list > li > a, .related-list > li > span[dir]").all_text_contents()
    assert own["article_id"] not in {r["article_id"] for r in body["related"]}
    assert len(titles) == len(body["related"])


def test_an_articles_copies_the_card_does_not_name_open_its_related_articles(visit: Visit) -> None:
    extra = {"article_id": "elsewhere-1", "date": "2024-03-22", "source": "Elsewhere", "url": None}

    def with_another_copy(route: object) -> None:
        response = route.fetch()  # type: ignore[attr-defined]
        body = response.json()
        body["copies"].append(extra)
        route.fulfill(response=response, json=body)  # type: ignore[attr-defined]

    visit.context.route("**/related?*", with_another_copy)
    page = visit.ask(PIPELINE)
    card = page.locator("#results .card").first
    card.locator(".related-toggle").click()
    card.locator(".related .also").wait_for()

    assert (
        card.locator(".related .also").text_content()
        == "The same story was also published by Elsewhere (2024-03-22)"
    )


# --- errors ----------------------------------------------------------------------------------------


def test_an_empty_question_is_a_message_not_a_request(visit: Visit) -> None:
    page = visit.open()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/search" in request.url else None)
    page.fill("#question", "   ")
    page.press("#question", "Enter")
    page.wait_for_selector("#error:not([hidden])")

    assert page.text_content("#error") == "Type a question first."
    assert page.evaluate("document.activeElement.id") == "question"
    assert asked == []


def test_since_after_until_and_bad_passages_are_marked_before_asking(visit: Visit) -> None:
    page = visit.open()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/search" in request.url else None)
    page.fill("#since", "2024-01-01")
    page.fill("#until", "2023-01-01")
    page.fill("#k", "0")
    visit.ask(MUNIR)

    assert page.text_content("#error") == (
        "Since (2024-01-01) is after Until (2023-01-01). Passages: a whole number from 1 to 100."
    )
    assert page.evaluate("document.activeElement.id") == "since"
    invalid = page.eval_on_selector_all("[aria-invalid=true]", "fields => fields.map(f => f.id)")
    assert invalid == ["since", "k"] and asked == []
    # the focused field says why it is invalid, whether or not the alert was heard over the focus
    sync_api.expect(page.locator("#since")).to_have_accessible_description(page.text_content("#error") or "")
    page.fill("#since", "")
    page.fill("#k", "3")
    assert len(cards(visit.ask(MUNIR))) == 3
    assert page.eval_on_selector_all("[aria-invalid]", "fields => fields.length") == 0
    sync_api.expect(page.locator("#since")).to_have_accessible_description("")


def test_the_error_and_an_invalid_field_stand_out_in_forced_colours(browser: object, server: str) -> None:
    """Forced colours (Windows' contrast themes) drop backgrounds and shadows and recolour edges."""
    forced = Visit(browser, server, DESKTOP, forced_colors="active")
    try:
        page = forced.open()
        page.fill("#k", "0")
        forced.ask(MUNIR)
        edge = "e => [getComputedStyle(e).borderTopStyle, getComputedStyle(e).borderTopColor]"
        error_style, error_color = page.eval_on_selector("#error", edge)
        assert error_style == "solid" and error_color != "rgba(0, 0, 0, 0)"  # a frame, not just text
        assert page.eval_on_selector("#k", edge)[0] == "dashed"  # its red edge alone would be lost
        assert page.eval_on_selector("#since", edge)[0] == "solid"
    finally:
        forced.close()


def test_an_invalid_as_of_keeps_its_help_besides_the_error(visit: Visit) -> None:
    page = visit.open()
    page.focus("#as_of")
    page.keyboard.type("03")  # a date typed only in part
    visit.ask(MUNIR)

    assert page.evaluate("document.activeElement.id") == "as_of"
    assert page.get_attribute("#as_of", "aria-describedby") == "error as-of-help"
    page.fill("#as_of", "2024-03-25")
    visit.ask(PIPELINE)
    page.wait_for_selector("#results .card")
    assert page.get_attribute("#as_of", "aria-describedby") == "as-of-help"


def test_a_problem_in_a_folded_filter_unfolds_the_filters_and_focuses_it(phone: Visit) -> None:
    page = phone.open()
    page.click("#filters summary")
    page.fill("#since", "2024-01-01")
    page.fill("#until", "2023-01-01")
    page.click("#filters summary")  # folded again, as on a phone
    phone.ask(MUNIR)

    assert page.text_content("#error") == "Since (2024-01-01) is after Until (2023-01-01)."
    assert page.evaluate("document.activeElement.id") == "since" and page.is_visible("#since")


def test_the_servers_own_refusal_is_shown(visit: Visit) -> None:
    page = visit.open("/?question=" + "x" * 1001)  # longer than the API takes (the field stops typing)
    page.wait_for_selector("#error:not([hidden])")

    assert "1000" in (page.text_content("#error") or "")
    assert page.locator("#results .card").count() == 0


def test_a_bad_date_in_the_address_is_a_message(visit: Visit) -> None:
    page = visit.open("/?question=metro&since=2024-13-45")
    page.wait_for_selector("#error:not([hidden])")

    assert page.text_content("#error") == "Since: “2024-13-45” is not a date (YYYY-MM-DD)."


@pytest.mark.parametrize("k", ["abc", "7.5", "0", "101", "-3"])
def test_a_bad_number_of_passages_in_the_address_is_a_message(visit: Visit, k: str) -> None:
    page = visit.open(f"/?question=metro&k={k}")
    page.wait_for_selector("#error:not([hidden])")

    assert page.text_content("#error") == f"Passages: “{k}” is not a whole number from 1 to 100."
    assert cards(page) == []  # nothing asked with another number than the link's


# --- phone width, docs ---------------------------------------------------------------------------


def test_the_page_fits_a_phone_screen(phone: Visit) -> None:
    page = phone.ask(FERRY)
    width = page.evaluate("document.documentElement.scrollWidth")
    box = page.locator("#results .card").first.bounding_box()
    ask = page.locator("button[type=submit]").bounding_box()

    assert width <= PHONE["width"]  # nothing scrolls sideways
    assert box is not None and box["width"] <= PHONE["width"] and box["x"] >= 0
    assert ask is not None and ask["x"] + ask["width"] <= PHONE["width"]
    assert page.locator("#filters").get_attribute("open") is None  # filters folded away on a phone


def test_large_text_still_fits_a_phone_screen(browser: object, server: str) -> None:
    """A reader's default font of 32 px (set here around the page's content policy)."""
    big = Visit(browser, server, PHONE, bypass_csp=True)
    try:
        page = big.open()
        page.add_style_tag(content="html { font-size: 32px; }")
        big.ask(FERRY)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.eval_on_selector(".passage", "p => getComputedStyle(p).whiteSpace") == "pre-line"
    finally:
        big.close()


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/?question=metro&k=" + "9" * 120, "#error:not([hidden])"),  # the link's value, said back
        (f"/?question={PIPELINE}&sources=Trend&sources=" + "A" * 300, "#status:has-text('AAAA')"),
    ],
)
def test_a_long_unbroken_value_said_back_wraps_on_a_phone(phone: Visit, path: str, shown: str) -> None:
    page = phone.open(path)
    page.wait_for_selector(shown)

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize(
    ("path", "rendered"), [("/docs", ".swagger-ui .opblock"), ("/redoc", "[role=menuitem]")]
)
def test_the_api_docs_render_offline(visit: Visit, path: str, rendered: str) -> None:
    page = visit.open(path)
    page.wait_for_selector(rendered, timeout=20_000)

    assert "/ask" in page.text_content("body")


def test_the_banner_says_when_time_words_count_back_from_the_archives_last_day(
    visit: Visit, server: str
) -> None:
    question = "What happened last week?"
    page = visit.open("/")
    visit.ask(question)
    read = api(server, question=question)["interpreted"]
    banner = page.text_content("#interpreted")

    assert read is not None and read["clock"] == "archive"  # type: ignore[index]
    assert f"counted back from {read['anchor']}, the archive's last day" in banner  # type: ignore[index]


# --- long hits -------------------------------------------------------------------------------------


def test_a_long_hit_is_folded_around_its_answer_and_unfolds(visit: Visit, server: str) -> None:
    # k=10 over the seeds: too few articles to fill ten places, so an article's neighbouring
    # passages come back as one hit, longer than any one passage (`QA_MERGE_ADJACENT`)
    hits = api(server, question=MUNIR, k=10)["hits"]
    long = [n for n, h in enumerate(hits) if len(h["text"]) > 1500]  # type: ignore[index,union-attr]
    assert long, "the seeds should give a merged hit longer than the fold"
    page = visit.open(f"/?question={MUNIR}&k=10")
    page.wait_for_selector("#results .card")
    card = page.locator("#results .card").nth(long[0])
    hit = hits[long[0]]  # type: ignore[index]
    text, button = card.locator(".passage"), card.locator("button.more")
    folded = text.text_content() or ""

    assert len(folded) < len(hit["text"]) and hit["highlight"] in folded  # the answer stays in view
    assert card.locator(".passage mark").text_content() == hit["highlight"]
    assert button.get_attribute("aria-expanded") == "false"
    assert button.get_attribute("aria-controls") == text.get_attribute("id")
    # which article's text it shows, for a screen reader going from button to button
    assert button.get_attribute("aria-describedby") == card.locator("h2").get_attribute("id")
    assert button.text_content() == f"Show all {len(hit['text'].split())} words"
    button.click()
    assert text.text_content() == hit["text"] and button.get_attribute("aria-expanded") == "true"
    assert card.locator(".passage mark").text_content() == hit["highlight"]
    assert button.text_content() == "Show less"
    button.click()
    assert text.text_content() == folded and button.get_attribute("aria-expanded") == "false"
    short = [n for n, h in enumerate(hits) if len(h["text"]) <= 1500]  # type: ignore[index,union-attr]
    for n in short:  # a hit of one passage is shown whole, without a button
        assert page.locator("#results .card").nth(n).locator("button.more").count() == 0


def test_folding_a_long_hit_again_keeps_its_button_where_it_was(phone: Visit, server: str) -> None:
    # on a phone the unfolded text is many screens long: folding it must not leave the reader
    # far down the page, in other cards, with the button (and the focus) off screen above
    hits = api(server, question=MUNIR, k=10)["hits"]
    long = next(n for n, h in enumerate(hits) if len(h["text"]) > 1500)  # type: ignore[index,union-attr]
    page = phone.open(f"/?question={MUNIR}&k=10")
    page.wait_for_selector("#results .card")
    button = page.locator("#results .card").nth(long).locator("button.more")
    button.click()
    page.evaluate("y => window.scrollBy(0, y)", (button.bounding_box() or {"y": 0})["y"] - 600)
    before = (button.bounding_box() or {})["y"]
    button.click()

    assert button.get_attribute("aria-expanded") == "false"
    assert abs((button.bounding_box() or {})["y"] - before) < 2


def excerpt(page: Page, text: str, start: int, end: int) -> str:
    """The page's fold of `text` with the mark at `[start, end)` (code points), as shown."""
    lo, hi = page.evaluate(
        "async ([path, text, start, end]) => (await import(path)).excerpt(Array.from(text), start, end)",
        ["./static/page.js", text, start, end],
    )
    return text[lo:hi]


def test_the_fold_keeps_whole_sentences_and_never_cuts_the_mark(visit: Visit) -> None:
    page = visit.open()
    sentences = [f"Sentence number {n} says something about the harbour." for n in range(60)]
    text = " ".join(sentences)  # 3,000 characters or so
    assert excerpt(page, text[:1400], 0, 50) == text[:1400]  # short enough: whole
    for n in (0, 5, 30, 59):  # the mark at the start, early, in the middle, last
        start = text.index(sentences[n])
        end = start + len(sentences[n])
        shown = excerpt(page, text, start, end)
        assert sentences[n] in shown and len(shown) < len(text)
        assert shown.startswith("Sentence number") and shown.rstrip().endswith("harbour.")
        assert text.index(shown) <= start and len(shown) <= 1300 + (end - start)
    long_mark = text[100:2600]  # a mark longer than the excerpt is shown whole
    assert long_mark in excerpt(page, text, 100, 2600)
    run_on = "word " * 700  # no sentence ends: cut at a word
    shown = excerpt(page, run_on, 0, 0)
    assert shown.endswith("word") and 800 <= len(shown) <= 1000
    run_on = " ".join(f"word{n}" for n in range(600))  # no sentence: a word's start before the mark
    start = run_on.index("word400 ")
    shown = excerpt(page, run_on, start, start + 7)
    assert shown.startswith("word") and 100 <= run_on.index("word400 ") - run_on.index(shown) <= 150
    cjk = "港口预算" * 1000  # neither sentences nor spaces: cut at characters, still bounded
    shown = excerpt(page, cjk, 2000, 2010)
    assert cjk[2000:2010] in shown and len(shown) <= 1000
    paragraphs = "\n".join(f"Paragraph {n} line" for n in range(200))
    start = paragraphs.index("Paragraph 150 line")
    shown = excerpt(page, paragraphs, start, start + 18)
    assert shown.startswith("Paragraph ") and "Paragraph 150 line" in shown


def fulfil(answer: dict[str, object], route: object) -> None:
    route.fulfill(json=answer)  # type: ignore[attr-defined]


def made_up(text: str, start: int, end: int, **fields: object) -> dict[str, object]:
    """An answer of one hit with `text`, marked at `[start, end)` (code points), for `page.route`."""
    hit = {
        "text": text, "score": 1.0, "article_id": "a1", "title": "T", "date": "2024-01-01", "source": "S",
        "url": None, "position": 0, "span": [0, len(text)], "highlight": text[start:end],
        "highlight_span": [start, end], "duplicates": [], "copies": [], "match": 0.9, "weak": False,
    } | fields  # fmt: skip
    return {"question": "q", "as_of": "2024-02-01", "interpreted": None, "unknown_sources": [], "hits": [hit]}


def test_a_right_to_left_passage_keeps_its_direction(visit: Visit) -> None:
    text = " ".join(["اجتمع المجلس يوم الثلاثاء لمناقشة ميزانية الميناء."] * 60)
    visit.context.route("**/search?*", lambda route: route.fulfill(json=made_up(text, 0, 50)))
    page = visit.ask("rtl")
    passage = page.locator("#results .passage").first

    assert passage.get_attribute("dir") == "auto"
    assert passage.evaluate("p => getComputedStyle(p).direction") == "rtl"


def test_text_without_spaces_folds_around_its_mark_and_counts_characters(visit: Visit) -> None:
    text = "市议会周二再次开会讨论港口预算。居民对新桥附近的交通表示担忧。" * 150  # 4,650 characters
    start = text.index("居民", 3000)
    visit.context.route("**/search?*", lambda route: route.fulfill(json=made_up(text, start, start + 15)))
    page = visit.ask("zh")
    shown = (page.text_content("#results .passage") or "").removeprefix("… ").removesuffix(" …")

    assert text[start : start + 15] in shown and len(shown) < 1300  # folded, with the mark
    assert text.index(shown) < start and shown.startswith("市")  # sentences before it, from a start
    assert page.text_content("#results button.more") == "Show all 4,650 characters"


def test_a_relative_url_is_not_made_a_link_to_this_server(visit: Visit) -> None:
    for url in ("story.html", "//elsewhere.example/x", "/articles/a1"):
        visit.context.route("**/search?*", functools.partial(fulfil, made_up("Short.", 0, 6, url=url)))
        page = visit.ask(f"where {url}")
        page.wait_for_selector("#status:has-text('1 answer')")
        assert cards(page)[0]["link"] is None, url
        visit.context.unroute("**/search?*")
