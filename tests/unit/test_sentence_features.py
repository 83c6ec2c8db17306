"""Tests for qa.retrieval.sentence_features: what the highlighters know about sentences."""

from __future__ import annotations

import numpy as np

from embeddings.text import split_sentences
from qa.retrieval.sentence_features import (
    FEATURES,
    analyse_passage,
    analyse_question,
    lexical_scores,
    sentence_features,
    term_weights,
)

PASSAGE = (
    "The county reported storm damage along the coast. "
    "Damage was worst in New Castle County, officials said. "
    "Sign up for our newsletter"
)


def features(question: str, passage: str) -> np.ndarray:
    q, p = analyse_question(question), analyse_passage(passage)
    return sentence_features(q, p, term_weights(q, p, None))


def column(x: np.ndarray, name: str) -> list[float]:
    return x[:, FEATURES.index(name)].tolist()


def test_one_row_per_sentence_one_column_per_feature() -> None:
    x = features("Which county saw the most storm damage?", PASSAGE)

    assert x.shape == (len(split_sentences(PASSAGE)), len(FEATURES)) == (3, len(FEATURES))
    assert np.isfinite(x).all()


def test_the_lexical_column_is_the_lexical_score() -> None:
    q, p = analyse_question("Which county saw the most storm damage?"), analyse_passage(PASSAGE)
    weight = term_weights(q, p, lambda term: {"county": 2.0, "storm": 3.0}.get(term, 1.0))
    x = sentence_features(q, p, weight)

    assert column(x, "lexical") == lexical_scores(q, p, weight)
    assert max(column(x, "lexical_gap")) == 0.0
    assert sum(column(x, "lexical_best")) == 1.0


def test_the_question_asks_for_an_entity_and_the_second_sentence_names_one() -> None:
    x = features("Which county saw the most storm damage?", PASSAGE)

    # "New Castle County": capitalised words that are not question terms ("County" is one)
    assert column(x, "new_name_x_entity_cue") == [0.0, 1.0, 0.0]
    assert column(x, "answer_proximity")[1] > 0.0
    assert column(x, "head_noun") == [1.0, 1.0, 0.0]  # "which county" -> county
    assert column(x, "prose") == [1.0, 1.0, 0.0]  # a sign-up prompt is page debris
    assert column(x, "first") == [1.0, 0.0, 0.0]


def test_a_number_counts_for_how_many_questions_unless_the_question_holds_it() -> None:
    passage = "In 2024 the floods came. The floods killed 12 people in 2024."
    x = features("How many people did the 2024 floods kill?", passage)

    assert column(x, "number") == [0.0, 1.0]
    assert column(x, "number_x_number_cue") == [0.0, 1.0]
    assert column(x, "answer_x_cue") == [0.0, 1.0]


def test_question_facts() -> None:
    q = analyse_question("Where will the game take place, and who will play?")

    assert q.cue == "entity" and q.where and q.who and not q.when
    assert analyse_question("When did the what year question arrive?").cue == "number"
    assert analyse_question("What type of cicadas appear every 17 years?").head == "cicada"
    assert analyse_question("What is the name of the spacecraft?").head is None


def test_an_empty_passage_has_no_rows() -> None:
    assert features("Who won?", "").shape == (0, len(FEATURES))
