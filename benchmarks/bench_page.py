"""What the page adds over the API call, in Chromium against `qa serve` over the seeds (real model).

For each question typed into the page, page.js records two performance entries: `qa:api` (the
fetch of /search until its JSON is parsed) and `qa:render` (from there until the cards are in the
DOM); the same /search calls are then timed without a browser, and the page's load is timed too.
Prints figures; asserts nothing. With `--screenshots DIR` it also saves the README's two screenshots.

    PYTHONPATH=. python -m benchmarks.bench_page [--rounds 20] [--screenshots docs]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.seed_server import EXTRA_ARTICLES, INJECTED_TITLE, seed_server

QUESTIONS = (
    "Who did Azerbaijan's defense minister receive on November 1, 2023?",
    "Pakistan army chief visit to Baku",
    "How did Caspian pipeline oil exports change?",
    "military cooperation between Azerbaijan and Pakistan",
    "What did Ilham Aliyev discuss with Asim Munir?",
)
# The made-up articles without the one that tries to inject markup: it would only puzzle a reader.
SHOWN_ARTICLES = [a for a in EXTRA_ARTICLES if a["title"] != INJECTED_TITLE]


def ask(page: Page, question: str) -> None:
    """Type and enter `question`; return once the answer is shown."""
    page.fill("#question", question)
    page.press("#question", "Enter")
    page.wait_for_selector("#results:not([aria-busy])", state="attached")


def direct(base: str, rounds: int) -> list[float]:
    """Milliseconds of the same /search calls made without a browser (httpx, one connection)."""
    times = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(rounds):
            for question in QUESTIONS:
                started = time.perf_counter()
                client.get("/search", params={"question": question, "k": 5}).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
    return times


def measure(browser: Browser, base: str, rounds: int) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(base + "/")
    page.reload()  # the second load: the browser's own start-up is not the page's
    load = page.evaluate(
        """() => { const [n] = performance.getEntriesByType("navigation");
                   return {ready: n.domContentLoadedEventEnd, load: n.loadEventEnd,
                           bytes: performance.getEntriesByType("resource")
                               .reduce((sum, r) => sum + r.transferSize, n.transferSize)}; }"""
    )
    for question in QUESTIONS:  # warm: question vectors cached, code paths compiled
        ask(page, question)
    page.evaluate("performance.clearMeasures()")
    for _ in range(rounds):
        for question in QUESTIONS:
            ask(page, question)
    entries: dict[str, list[float]] = page.evaluate(
        """() => Object.fromEntries(["qa:api", "qa:render"].map(
            name => [name, performance.getEntriesByName(name).map(e => e.duration)]))"""
    )
    page.close()
    print(
        f"first load: DOMContentLoaded {load['ready']:.1f} ms, load {load['load']:.1f} ms,"
        f" {load['bytes'] / 1024:.1f} KiB transferred"
    )
    print(
        f"{len(entries['qa:render'])} questions asked through the page, then the same /search calls directly:"
    )
    for name, values in (*entries.items(), ("/search without a browser", direct(base, rounds))):
        print(f"  {name:26} {summary(values)}")


def summary(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.2f} ms, p95 {p95:6.2f} ms, max {ordered[-1]:6.2f} ms"


def screenshots(browser: Browser, base: str, folder: Path) -> None:
    """docs/page-desktop.png (a time window read, a copy, related opened) and docs/page-phone.png."""
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[tuple[str, dict[str, Any], str, str]] = [
        ("page-desktop.png", {"width": 1000, "height": 820}, "/?as_of=2024-03-25",
         "What happened to Caspian oil exports last week?"),
        ("page-phone.png", {"width": 390, "height": 780}, "/", QUESTIONS[0]),
    ]  # fmt: skip
    for name, viewport, path, question in shots:
        page = browser.new_page(viewport=viewport)
        page.goto(base + path)
        ask(page, question)
        if viewport["width"] > 600:
            card = page.locator("#results .card").first
            card.locator(".related-toggle").click()
            card.locator(".related-list li").first.wait_for()
            page.wait_for_selector("#results .card .also a")
        page.screenshot(path=str(folder / name))
        page.close()
        print(f"saved {folder / name}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="times each question is asked")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshots", type=Path, help="save the README's screenshots in this folder")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as workdir,
        seed_server(Path(workdir), articles=SHOWN_ARTICLES) as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        measure(browser, base, args.rounds)
        if args.screenshots:
            screenshots(browser, base, args.screenshots)
        browser.close()


if __name__ == "__main__":
    main()
