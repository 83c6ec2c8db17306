"""Tests for qa.retrieval.highlight: the choice of the answering sentence (spans: tests/unit/test_text.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.errors import QAError
from embeddings.text import split_sentences
from qa.retrieval.highlight import Highlight, best_sentence
from qa.retrieval.highlighter import load_highlighter
from qa.retrieval.learned import LinearRanker
from qa.retrieval.sentence_features import FEATURES

AZERBAIJAN = (
    "Baku, November 2. Azerbaijan's economy grew 3.5% in the third quarter, officials said.\n"
    "On November 1, Azerbaijan's Defense Minister Colonel General Zakir Hasanov received a "
    "delegation led by Pakistan's Chief of Army Staff General Syed Asim Munir. The Pakistani "
    "delegation is on an official visit to Azerbaijan. Prior to the meeting, the delegation "
    "visited the Alley of Martyrs. The defense minister said cooperation would grow."
)


# --- best_sentence --------------------------------------------------------------------------


def test_picks_the_sentence_answering_the_azerbaijan_question() -> None:
    found = best_sentence("Who did Azerbaijan's defense minister receive on November 1?", AZERBAIJAN)
    assert found.text.startswith("On November 1, Azerbaijan's Defense Minister")
    assert found.text.endswith("General Syed Asim Munir.")
    assert AZERBAIJAN[found.start : found.end] == found.text


def test_stemming_matches_inflected_forms() -> None:
    passage = (
        "The company opened a new plant in Texas. "
        "Ford is recalling 112,000 vehicles over a roll-away risk. "
        "Analysts expect sales to rise."
    )
    found = best_sentence("Which automaker recalled more than 112,000 vehicles this week?", passage)
    assert found.text == "Ford is recalling 112,000 vehicles over a roll-away risk."


def test_numeric_question_prefers_the_sentence_with_a_number() -> None:
    passage = "Floods hit the region on Monday. Floods killed 12 people in the region."
    found = best_sentence("How many people did the floods kill in the region?", passage)
    assert found.text == "Floods killed 12 people in the region."


def test_answer_type_cue_breaks_a_near_tie_towards_a_new_name() -> None:
    passage = "The minister met a delegation. The minister met Munir."
    found = best_sentence("Who did the minister meet?", passage)
    assert found.text == "The minister met Munir."


def test_bigram_match_beats_scattered_words() -> None:
    passage = (
        "The minister of culture visited a defense plant. The defense minister visited a culture festival."
    )
    found = best_sentence("What did the defense minister visit?", passage)
    assert found.text == "The defense minister visited a culture festival."


def test_long_sentences_do_not_win_by_size_alone() -> None:
    filler = " ".join(f"word{i}" for i in range(60))
    long_sentence = f"The central bank raised interest rates and {filler}."
    short_sentence = "The central bank raised interest rates."
    found = best_sentence("Did the central bank raise interest rates?", f"{long_sentence} {short_sentence}")
    assert found.text == short_sentence


def test_idf_callable_changes_the_choice() -> None:
    passage = "Liverpool lost at home. Anfield was quiet."
    question = "Which side lost to them at Anfield, Liverpool?"
    by_liverpool = best_sentence(question, passage, idf=lambda t: 5.0 if t == "liverpool" else 1.0)
    by_anfield = best_sentence(question, passage, idf=lambda t: 5.0 if t == "anfield" else 0.1)
    assert by_liverpool.text == "Liverpool lost at home."
    assert by_anfield.text == "Anfield was quiet."


def test_idf_is_called_with_stemmed_lowercase_terms() -> None:
    seen: list[str] = []

    def idf(term: str) -> float:
        seen.append(term)
        return 1.0

    best_sentence("Which Vehicles were RECALLED?", "Cars were recalled. Trucks were not.", idf=idf)
    assert sorted(seen) == ["recall", "vehicl"]


def test_sentence_scores_can_outweigh_a_small_lexical_lead() -> None:
    passage = "The minister met a delegation from Pakistan. They discussed joint drills."
    question = "What did the minister and the Pakistani army chief talk about?"
    lexical_only = best_sentence(question, passage)
    combined = best_sentence(question, passage, sentence_scores=[0.1, 0.9])
    assert lexical_only.text == "The minister met a delegation from Pakistan."
    assert combined.text == "They discussed joint drills."


def test_sentence_scores_must_align_with_sentences() -> None:
    with pytest.raises(QAError, match="2 scores for 3 sentences"):
        best_sentence("q", "One. Two. Three.", sentence_scores=[0.1, 0.2])


def test_no_overlap_falls_back_to_the_first_sentence() -> None:
    found = best_sentence("Who won the election?", "  Rain fell all day. The river rose.")
    assert found == Highlight("Rain fell all day.", 2, 20)


def test_ties_go_to_the_earlier_sentence_and_results_are_deterministic() -> None:
    passage = "Talks ended. Talks ended. Talks ended."
    results = {best_sentence("When did talks end?", passage) for _ in range(5)}
    assert results == {Highlight("Talks ended.", 0, 12)}


def test_passage_without_boundary_returns_the_whole_stripped_passage() -> None:
    passage = "\n  a headline with no full stop  \n"
    found = best_sentence("anything", passage)
    assert found == Highlight("a headline with no full stop", 3, 31)
    assert passage[found.start : found.end] == found.text


@pytest.mark.parametrize("passage", ["", "   ", "\n\t\n"])
def test_empty_or_whitespace_passage_gives_an_empty_highlight(passage: str) -> None:
    assert best_sentence("Who won?", passage) == Highlight("", 0, 0)


def test_question_of_only_stopwords_still_returns_a_sentence() -> None:
    found = best_sentence("Who was it?", "It was him. It was her.")
    assert found == Highlight("It was him.", 0, 11)


def test_text_that_lowercases_to_another_length_keeps_exact_spans() -> None:
    passage = "İstanbul hosted talks. The minister met Munir in İstanbul."
    found = best_sentence("Who did the minister meet in Istanbul?", passage)
    assert found.text == "The minister met Munir in İstanbul."
    assert passage[found.start : found.end] == found.text


@settings(max_examples=150, deadline=None)
@given(
    question=st.text(alphabet=st.sampled_from(list("abc AB?")), max_size=20),
    passage=st.text(alphabet=st.sampled_from(list("abc ABC.!?\n3")), max_size=120),
)
def test_highlight_is_always_an_exact_slice(question: str, passage: str) -> None:
    found = best_sentence(question, passage)
    assert passage[found.start : found.end] == found.text
    assert found.text == found.text.strip()
    assert bool(found.text) == bool(passage.strip())


def test_given_spans_are_used_as_the_sentences() -> None:
    passage = "Ford recalled cars. Toyota did not. Honda waited."
    question = "Which automaker recalled cars?"
    assert best_sentence(question, passage, spans=split_sentences(passage)) == best_sentence(
        question, passage
    )
    # Spans that join the first two sentences make that joined span the answer.
    joined = best_sentence(question, passage, spans=[(0, 35), (36, 49)])
    assert (joined.text, joined.start, joined.end) == ("Ford recalled cars. Toyota did not.", 0, 35)


# --- prose over page debris -------------------------------------------------------------------


def test_a_matching_prose_sentence_beats_a_better_matching_link_lead_in() -> None:
    passage = "See power outage maps:\nThe storm knocked out power to 200,000 homes on Tuesday."
    found = best_sentence("Where can I see power outage maps for the storm?", passage)
    assert found.text == "The storm knocked out power to 200,000 homes on Tuesday."


def test_a_boilerplate_disclaimer_is_passed_over() -> None:
    disclaimer = (
        "Sports betting operators have no influence over nor are any revenues made dependent on or"
        " linked to the newsroom or news coverage."
    )
    passage = f"{disclaimer} The Chiefs beat the 49ers 25-22 in overtime."
    found = best_sentence("Did sports betting operators favour the Chiefs over the 49ers?", passage)
    assert found.text == "The Chiefs beat the 49ers 25-22 in overtime."


def test_a_headline_is_passed_over_for_the_sentence_below_it() -> None:
    headline = "Which film won the most Golden Globes awards in 2024"
    passage = f'{headline}\n"Oppenheimer" took five awards on Sunday.'
    found = best_sentence("Which film won the most Golden Globes awards in 2024?", passage)
    assert found.text == '"Oppenheimer" took five awards on Sunday.'


def test_debris_is_still_chosen_when_no_prose_sentence_matches() -> None:
    passage = "Worst picture nominees:\nThe ceremony took place on Saturday."
    found = best_sentence("Which film was nominated for worst picture?", passage)
    assert found.text == "Worst picture nominees:"


def test_without_any_match_the_first_prose_sentence_is_shown() -> None:
    passage = "MENU\nSubscribe to our newsletter today.\nThe river rose overnight. Rain fell."
    assert best_sentence("Who won the election?", passage).text == "The river rose overnight."


# --- with a scorer (the learned highlighter) ----------------------------------------------------


def _scorer(**weights: float) -> LinearRanker:
    w = np.zeros(len(FEATURES))
    for name, value in weights.items():
        w[FEATURES.index(name)] = value
    return LinearRanker(FEATURES, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), w)


def test_a_scorer_chooses_by_its_weights() -> None:
    passage = "The river rose overnight. Rain fell on the town. The bridge closed at noon."
    assert best_sentence("q", passage, scorer=_scorer(position=1.0)).text == "The bridge closed at noon."
    assert best_sentence("q", passage, scorer=_scorer(position=-1.0)).text == "The river rose overnight."


def test_with_a_scorer_prose_still_comes_first() -> None:
    passage = "Worst picture nominees:\nThe ceremony took place on Saturday."
    found = best_sentence("Which film was nominated for worst picture?", passage, scorer=_scorer(lexical=1.0))
    assert found.text == "The ceremony took place on Saturday."


def test_the_shipped_highlighter_prefers_the_sentence_naming_what_is_asked() -> None:
    passage = (
        "It will take days to know the extent of the storm damage in Delaware, the agency said. "
        "The worst hit was New Castle County, where dozens of homes flooded. Crews are clearing debris."
    )
    question = "Which county in Delaware saw the most damage from the storm?"

    lexical = best_sentence(question, passage)
    learned = best_sentence(question, passage, scorer=load_highlighter())

    assert lexical.text.startswith("It will take days")
    assert learned.text == "The worst hit was New Castle County, where dozens of homes flooded."
    assert passage[learned.start : learned.end] == learned.text


@settings(max_examples=100, deadline=None)
@given(
    question=st.text(alphabet="ab ?", max_size=20),
    passage=st.text(alphabet="Ab1 .!?\n", max_size=200),
)
def test_a_learned_highlight_is_always_an_exact_slice(question: str, passage: str) -> None:
    found = best_sentence(question, passage, scorer=load_highlighter())
    assert passage[found.start : found.end] == found.text
