"""Retrieval: candidates from a backend, fusion, ranking, reranking and shaping into hits."""

from qa.retrieval.config import RetrievalConfig
from qa.retrieval.fusion import FUSIONS
from qa.retrieval.pipeline import retrieve
from qa.retrieval.query import Query, QuestionClock, question_clock, read_query
from qa.retrieval.related import collapses, copies_of, related
from qa.retrieval.rerankers import RERANKERS, Reranker, load_reranker

__all__ = [
    "FUSIONS",
    "RERANKERS",
    "Query",
    "QuestionClock",
    "Reranker",
    "RetrievalConfig",
    "collapses",
    "copies_of",
    "load_reranker",
    "question_clock",
    "read_query",
    "related",
    "retrieve",
]
