"""Tests for embeddings.sentences: where news sentences end, and where they do not."""

from __future__ import annotations

import pytest

from embeddings.sentences import split_sentences


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Gen. Asim Munir met Mr. Smith in Islamabad. They talked.",
            ["Gen. Asim Munir met Mr. Smith in Islamabad.", "They talked."],
        ),
        (
            "U.S. officials met Dr. Khan. Talks went on.",
            ["U.S. officials met Dr. Khan.", "Talks went on."],
        ),
        (
            "He visited the U.S. capital on Monday. Then he left.",
            ["He visited the U.S. capital on Monday.", "Then he left."],
        ),
        (
            "She left at 5 p.m. on Friday. Nobody noticed.",
            ["She left at 5 p.m. on Friday.", "Nobody noticed."],
        ),
    ],
)
def test_abbreviations_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert _sentences(text) == expected


def test_initials_do_not_end_sentences() -> None:
    text = "General A. Munir thanked the troops. J. R. Smith replied."
    assert _sentences(text) == ["General A. Munir thanked the troops.", "J. R. Smith replied."]


def test_decimals_do_not_end_sentences() -> None:
    text = "Growth was 3.5 percent in 2023. Prices rose 2.1% in March."
    assert _sentences(text) == ["Growth was 3.5 percent in 2023.", "Prices rose 2.1% in March."]


def test_question_and_exclamation_marks_end_sentences() -> None:
    assert _sentences("Is it over? Yes! It is.") == ["Is it over?", "Yes!", "It is."]


def test_closing_quotes_stay_with_their_sentence() -> None:
    assert _sentences('"We will win." Khan said so.') == ['"We will win."', "Khan said so."]


def test_newlines_are_hard_breaks_even_without_punctuation() -> None:
    text = "A headline without a period\nFirst paragraph. Second sentence\n\nLast paragraph ends Gen.\nNext"
    assert _sentences(text) == [
        "A headline without a period",
        "First paragraph.",
        "Second sentence",
        "Last paragraph ends Gen.",
        "Next",
    ]


def test_spans_are_trimmed_and_index_the_original_text() -> None:
    text = "   Leading spaces.    Inner gap.\t\n  Tabbed line.   "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Leading spaces.", "Inner gap.", "Tabbed line."]
    assert all(not text[s].isspace() and not text[e - 1].isspace() for s, e in spans)
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t "])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


def test_text_without_final_punctuation_is_one_sentence() -> None:
    assert _sentences("no punctuation at all") == ["no punctuation at all"]
