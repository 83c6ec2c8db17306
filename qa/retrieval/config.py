"""Retrieval settings: one frozen definition that `Settings` nests (`QA_<FIELD>` in the environment)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

RANKINGS = ("learned", "weights")
HIGHLIGHTERS = ("learned", "lexical")


class RetrievalConfig(BaseModel):
    """How candidates are found, ranked and shaped; every default is justified in docs/BENCHMARKS.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: int = Field(100, ge=10, le=2000, description="Dense and lexical candidates per question.")
    lexical: bool = Field(True, description="Fuse BM25 candidates with dense ones.")
    fusion: str = Field("rrf", description="How the two candidate lists are fused: rrf or linear.")
    rrf_k: int = Field(60, ge=1, description="Rank offset of reciprocal-rank fusion.")
    dense_weight: float = Field(1.0, ge=0.0, description="Dense weight in the fusion.")
    lexical_weight: float = Field(1.5, ge=0.0, description="BM25 weight in the fusion (dense: 1).")
    article_weight: float = Field(0.0, ge=0.0, description="Credit for an article's other matching passages.")
    strip_time: bool = Field(True, description="Match the question without its time expressions.")
    lexical_time: bool = Field(
        True, description="BM25 matches the whole question, time words included (dense: strip_time)."
    )
    time_boost: float = Field(
        0.5, ge=0.0, description="Preference for articles inside the question's window."
    )
    time_filter: bool = Field(
        False, description="Make question time windows hard filters over the whole index, as since/until."
    )
    recency_half_life_days: float = Field(180.0, ge=0.0)
    recency_weight: float = Field(0.5, ge=0.0, description="Mild preference for recent articles (0: off).")
    ranking: str = Field(
        "learned",
        description="How fused candidates are ordered: weights (the hand-set knobs above) or learned"
        " (a linear model over candidate features, qa/retrieval/ranker.json; ignores those knobs).",
    )
    ranker_path: Path | None = Field(None, description="A refitted ranker file (default: the shipped one).")
    reranker: str = Field("none", description="A reranker of the fused candidates (none: keep the order).")
    related: str = Field(
        "learned",
        description="How related articles are found: learned (a linear model over candidate articles'"
        " features, qa/retrieval/related_ranker.json), hybrid, dense or lexical.",
    )
    related_ranker_path: Path | None = Field(
        None, description="A refitted related-articles ranker file (default: the shipped one)."
    )
    related_candidates: int = Field(
        200, ge=10, le=2000, description="Dense and lexical passage candidates of a learned related search."
    )
    related_lexical_weight: float = Field(1.0, ge=0.0, description="BM25 weight in related articles' fusion.")
    related_time_weight: float = Field(
        1.0, ge=0.0, description="Preference for related articles near in time."
    )
    related_half_life_days: float = Field(30.0, ge=0.0, description="Days apart at which it halves.")
    max_per_article: int = Field(1, ge=1, description="Passages an article may show before others fill k.")
    collapse_duplicates: bool = Field(True, description="Show syndicated copies of a passage once.")
    merge_adjacent: bool = Field(True, description="Extend a hit over an adjacent passage that also ranked.")
    highlight: bool = Field(True, description="Pick the sentence of each hit that best answers.")
    highlight_corpus_idf: bool = Field(True, description="Weigh highlight terms by their archive idf.")
    highlighter: str = Field(
        "learned",
        description="How the highlight is chosen: learned (a linear model over sentence features,"
        " qa/retrieval/highlighter.json) or lexical (question-term idf mass, bigrams, answer-type cue).",
    )
    highlighter_path: Path | None = Field(
        None, description="A refitted highlighter file (default: the shipped one)."
    )
    match: bool = Field(
        True,
        description="Give each hit `match`, the probability that the archive holds what was asked"
        " (`qa.retrieval.match`), and `weak`: below the model's `weak_below`.",
    )
    match_path: Path | None = Field(
        None, description="A refitted match model file (default: the shipped one)."
    )

    @field_validator("fusion")
    @classmethod
    def _known_fusion(cls, name: str) -> str:
        from qa.retrieval.fusion import FUSIONS

        if name not in FUSIONS:
            raise ValueError(f"unknown fusion {name!r}; choices: {', '.join(sorted(FUSIONS))}")
        return name

    @field_validator("ranking")
    @classmethod
    def _known_ranking(cls, name: str) -> str:
        if name not in RANKINGS:
            raise ValueError(f"unknown ranking {name!r}; choices: {', '.join(RANKINGS)}")
        return name

    @field_validator("highlighter")
    @classmethod
    def _known_highlighter(cls, name: str) -> str:
        if name not in HIGHLIGHTERS:
            raise ValueError(f"unknown highlighter {name!r}; choices: {', '.join(HIGHLIGHTERS)}")
        return name

    @field_validator("related")
    @classmethod
    def _known_related(cls, name: str) -> str:
        from qa.retrieval.related import RELATED_MODES

        if name not in RELATED_MODES:
            raise ValueError(f"unknown related mode {name!r}; choices: {', '.join(RELATED_MODES)}")
        return name

    @field_validator("reranker")
    @classmethod
    def _known_reranker(cls, name: str) -> str:
        from qa.retrieval.rerankers import RERANKERS

        if name not in RERANKERS:
            raise ValueError(f"unknown reranker {name!r}; choices: {', '.join(sorted(RERANKERS))}")
        return name
