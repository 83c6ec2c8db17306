"""Tests for qa.retrieval.debris: which lines of a scraped page read as prose."""

from __future__ import annotations

import pytest

from qa.retrieval.debris import is_prose


@pytest.mark.parametrize(
    "line",
    [
        "The FAA grounded all Max 9 airplanes after a door plug blew out.",
        'He said: "We will not give up."',
        "Anfield was quiet.",
        "Is the bridge safe to cross?",
        "The U.S. team won 3-1 (after extra time).",
        "WASHINGTON (AP) — A divided Supreme Court on Monday allowed agents to cut razor wire.",
    ],
)
def test_sentences_of_the_story_are_prose(line: str) -> None:
    assert is_prose(line)


@pytest.mark.parametrize(
    "line",
    [
        "See power outage maps:",  # a lead-in to a link or a list
        "Golden Globes 2024 winners in all categories:",
        "Taylor Swift's concert movie goes for Golden Globes glory",  # a headline or link text
        "(AP Photo/Evan Vucci)",  # a caption credit
        "Home News Sport Business",  # a menu
        "BREAKING NEWS: STORM HITS COAST.",  # all capitals
        "Louisiana.",  # a fragment
        "Read the full ruling at https://example.com/ruling.pdf today.",
        "Sports betting operators have no influence over nor are any revenues made dependent on or"
        " linked to the newsroom or news coverage.",
        "Sign up for our daily newsletter to get the news first.",
    ],
)
def test_page_debris_is_not_prose(line: str) -> None:
    assert not is_prose(line)
