"""Hand-made articles: dated and undated, several sources, two syndicated copies."""

from __future__ import annotations

import datetime as dt

from embeddings.articles import Article

# Syndicated copies carry this paragraph word for word (it is one passage in both).
SHARED_PARAGRAPH = (
    "The Caspian pipeline consortium announced that crude oil exports through the western "
    "pipeline rose sharply this autumn."
)


def make_articles() -> list[Article]:
    """Hand-made articles: dated and undated, several sources, two syndicated copies."""
    return [
        Article(
            "metro-opening",
            "Baku metro opens a new station",
            "The Baku metro opened a new station on the green line. Passengers crowded the platform "
            "on the first morning.",
            dt.date(2023, 11, 1),
            "News.Az",
            "https://news.az/metro-opening",
        ),
        Article(
            "defense-visit",
            "Defense minister receives Pakistani delegation",
            "The defense minister received a Pakistani military delegation led by the army chief. "
            "They discussed military cooperation and joint exercises.",
            dt.date(2023, 11, 2),
            "News.Az",
            "https://news.az/defense-visit",
        ),
        Article(
            "cotton-harvest",
            "Record cotton harvest in the regions",
            "Farmers gathered a record cotton harvest this year. The ministry praised the farmers of the "
            "southern regions.",
            dt.date(2023, 5, 10),
            "Azernews",
            "https://azernews.az/cotton-harvest",
        ),
        Article(
            "football-win",
            "Qarabag wins the football derby",
            "Qarabag won the football derby with two late goals. The football club now leads the league.",
            dt.date(2023, 8, 20),
            "Reuters",
            "https://reuters.com/football-win",
        ),
        Article(
            "archive-note",
            "A note on metro history",
            "The first metro line of Baku was built decades ago. The metro history museum keeps old "
            "station plans.",
            None,
            None,
            None,
        ),
        Article(
            "pipeline-a",
            "Oil exports rise, consortium says",
            SHARED_PARAGRAPH + "\n\nAnalysts in Baku expect tanker traffic to grow next year.",
            dt.date(2023, 11, 3),
            "News.Az",
            "https://news.az/pipeline",
        ),
        Article(
            "pipeline-b",
            "Caspian crude flows grow",
            SHARED_PARAGRAPH + "\n\nEuropean refiners welcomed the additional supply in their statement.",
            dt.date(2023, 11, 4),
            "Azernews",
            "https://azernews.az/pipeline",
        ),
        Article(
            "quake-report",
            "Earthquake shakes the mountain villages",
            "An earthquake shook the mountain villages before dawn.\n\n"
            "Rescue teams reached the earthquake zone by noon and searched collapsed houses.\n\n"
            "Engineers inspected earthquake damage to bridges and schools in the villages.\n\n"
            "The earthquake was the strongest in the mountain region for a decade, seismologists said.",
            dt.date(2024, 2, 15),
            "Reuters",
            "https://reuters.com/quake",
        ),
    ]
