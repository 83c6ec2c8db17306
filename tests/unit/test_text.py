"""Tests for embeddings.text: sentence spans, the highlight's content words, and BM25's tokens."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.text import (
    STOPWORDS,
    bm25_query_tokens,
    bm25_tokens,
    light_stem,
    question_terms,
    sentence_terms,
    snowball_stemmer,
    split_sentences,
    terms,
)
from tests.support.timing import growth


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


# --- split_sentences ------------------------------------------------------------------------


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


def test_spans_are_exact_and_exclude_surrounding_whitespace() -> None:
    text = "  First one.   Second one!\tThird one?  "
    spans = split_sentences(text)
    assert spans == [(2, 12), (15, 26), (27, 37)]
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one!", "Third one?"]


@pytest.mark.parametrize(
    "text",
    [
        "Gen. Syed Asim Munir led the delegation.",
        "Mr. Hasanov received Dr. Smith and Prof. Jones.",
        "The economy grew 3.5 percent in the third quarter.",
        "The delegation was led by General Syed A. Munir of Pakistan.",
        "Officials from the U.S. State Department attended.",
        "Shares of Apple Inc. rose while approx. three firms fell.",
        "He lives at No. 10 Downing Street.",
        "It was signed on Jan. 5 in Paris by Lt. Col. Smith.",
        '"Why not?" he asked the minister.',
    ],
)
def test_abbreviations_initials_and_decimals_do_not_split(text: str) -> None:
    assert _sentences(text) == [text]


def test_split_after_acronym_before_a_sentence_opener() -> None:
    assert _sentences("He moved to the U.S. The plan failed.") == ["He moved to the U.S.", "The plan failed."]


def test_split_after_ordinary_words_before_capitals_and_digits() -> None:
    text = "Talks ended in Baku. Munir left. 12 people were hurt."
    assert _sentences(text) == ["Talks ended in Baku.", "Munir left.", "12 people were hurt."]


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    text = 'He said "Stop." Then he left. She waited (briefly.) Nobody came.'
    assert _sentences(text) == ['He said "Stop."', "Then he left.", "She waited (briefly.)", "Nobody came."]


def test_question_marks_exclamations_and_ellipses_split() -> None:
    assert _sentences("Really?! Yes... It happened. Wow! Done") == [
        "Really?!",
        "Yes...",
        "It happened.",
        "Wow!",
        "Done",
    ]


def test_newlines_are_hard_breaks() -> None:
    text = "Headline without a stop\nBody starts here. It goes on\n\n\nLast line"
    assert _sentences(text) == ["Headline without a stop", "Body starts here.", "It goes on", "Last line"]


def test_newline_inside_an_abbreviated_name_still_breaks() -> None:
    assert _sentences("Meeting with Gen.\nMunir") == ["Meeting with Gen.", "Munir"]


def test_empty_and_whitespace_text_has_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\t \n") == []


def test_text_without_boundary_is_one_stripped_sentence() -> None:
    assert split_sentences("  no boundary here at all  ") == [(2, 25)]


@pytest.mark.parametrize("run", [".", "?", "…", ".!"])
def test_a_long_run_of_punctuation_is_split_in_linear_time(run: str) -> None:
    # An article is up to 2,000,000 characters: 40,000 dots took a minute when every dot of the run
    # was tried as a boundary again (quadratic: x64 for 8 times the dots, x8 now).
    def text(n: int) -> str:
        return "word " + run * (n // len(run)) + "word"

    assert split_sentences(text(20_000)) == [(0, len(text(20_000)))]
    assert growth(lambda n: split_sentences(text(n)), 2_500) < 24


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab AB.!?\n\"')3,")), max_size=80))
def test_spans_are_ordered_stripped_and_cover_every_visible_character(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    covered = [False] * len(text)
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        assert "\n" not in text[start:end]
        for i in range(start, end):
            covered[i] = True
        previous_end = end
    assert all(covered[i] or ch.isspace() for i, ch in enumerate(text))


# --- the highlight's content words ----------------------------------------------------------


def test_terms_drop_stopwords_and_news_filler_and_stem_lightly() -> None:
    found = terms("The ministers were running talks, officials said.")
    assert found == ["minister", "run", "talk", "official"]
    assert {"said", "according", "the"} <= STOPWORDS


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("policies", "policy"),
        ("classes", "class"),
        ("running", "run"),
        ("stopped", "stop"),
        ("filled", "fill"),
        ("buzzing", "buzz"),
        ("received", "receiv"),
        ("receive", "receiv"),
        ("bus", "bus"),
        ("analysis", "analysis"),
        ("organization", "organization"),
        ("was", "was"),
        ("2024s", "2024s"),
    ],
)
def test_light_stem_strips_only_plurals_ing_ed_and_a_final_e(word: str, stem: str) -> None:
    assert light_stem(word) == stem


def test_question_terms_keep_the_words_each_term_came_from() -> None:
    assert question_terms("Which policies did the policy board adopt?") == {
        "policy": ["policies", "policy"],
        "board": ["board"],
        "adopt": ["adopt"],
    }
    assert question_terms("Who was it?") == {}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab AB.!?\n'3İßs")), max_size=80))
def test_sentence_terms_are_the_terms_of_each_span(text: str) -> None:
    spans = split_sentences(text)
    assert sentence_terms(text, spans) == [terms(text[s:e]) for s, e in spans]


def test_sentence_terms_of_text_that_lowercases_to_another_length() -> None:
    text = "İstanbul talks ended. Ministers met."
    assert len(text.lower()) != len(text)
    expected = [terms("İstanbul talks ended."), ["minister", "met"]]
    assert sentence_terms(text, split_sentences(text)) == expected


# --- BM25 tokens -----------------------------------------------------------------------------


def test_bm25_tokens_drop_english_stopwords_and_apply_snowball() -> None:
    text = "The ministers were running talks, officials said."
    assert bm25_tokens([text], stem=True) == [["minist", "were", "run", "talk", "offici", "said"]]
    assert bm25_tokens([text], stem=False) == [["ministers", "were", "running", "talks", "officials", "said"]]


def test_bm25_tokens_of_no_texts_is_empty() -> None:
    assert bm25_tokens([], stem=True) == []


@pytest.mark.parametrize("stem", [True, False])
def test_a_query_is_cut_as_the_passages_were(stem: bool) -> None:
    queries = ["Who were the ministers running the talks?", "the of and", "GDP grew 3.5% in 2023"]
    stemmer = snowball_stemmer() if stem else None
    assert [bm25_query_tokens(q, stemmer) for q in queries] == bm25_tokens(queries, stem=stem)
    assert bm25_query_tokens("the of and", stemmer) == []


def test_bm25_and_the_highlight_analyse_words_differently() -> None:
    # Snowball and bm25s's stopwords for the index; the light stemmer and news stopwords for highlights.
    assert bm25_query_tokens("organization said", snowball_stemmer()) == ["organiz", "said"]
    assert terms("organization said") == ["organization"]
