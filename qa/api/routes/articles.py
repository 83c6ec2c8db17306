"""Articles: read one, list its related articles, add or replace some, delete one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException

from embeddings.articles import Article
from embeddings.errors import ArticleNotFoundError, InvalidArticleError
from embeddings.readers import parse_record
from qa.api.bodies import ArticlesRequest
from qa.api.deps import AppSettings, Service, authorise
from qa.api.errors import error_responses
from qa.api.schemas import ArticleOut, IndexReportOut, RelatedOut
from qa.api.strict_json import StrictJSONRoute
from qa.date_notes import DateNotes
from qa.settings import Settings

router = APIRouter(route_class=StrictJSONRoute)


@router.get(
    "/articles/{article_id}",
    response_model=ArticleOut,
    summary="One indexed article",
    responses=error_responses(404),
)
def article(article_id: str, qa: Service) -> ArticleOut:
    return ArticleOut.of(qa.article(article_id))


@router.get(
    "/articles/{article_id}/related",
    response_model=RelatedOut,
    summary="Articles most similar to this one",
    responses=error_responses(404),
)
def related(article_id: str, qa: Service, k: int = 5) -> RelatedOut:
    return RelatedOut.of(article_id, *qa.related_with_copies(article_id, k))


@router.post(
    "/articles",
    response_model=IndexReportOut,
    summary="Add or update articles",
    dependencies=[Depends(authorise)],
    responses=error_responses(401, 403, 415, 507),
)
def add_articles(body: ArticlesRequest, qa: Service, settings: AppSettings) -> IndexReportOut:
    articles = _parsed(body, settings)
    dates = DateNotes()
    report = qa.add(list(dates.watch(articles)))
    return IndexReportOut.of(report, [a.id for a in articles], dates.notes())


@router.delete(
    "/articles/{article_id}",
    response_model=IndexReportOut,
    summary="Delete an article",
    dependencies=[Depends(authorise)],
    responses=error_responses(401, 403, 404, 507),
)
def delete_article(article_id: str, qa: Service) -> IndexReportOut:
    report = qa.delete([article_id])
    if report.missing:
        raise ArticleNotFoundError(f"no article with id {article_id!r}")
    return IndexReportOut.of(report)


def _parsed(body: ArticlesRequest, settings: Settings) -> list[Article]:
    """The request's articles; a 422 that lists every bad record, so nothing is indexed from it."""
    if not body.articles:
        raise HTTPException(422, "articles must not be empty")
    if len(body.articles) > settings.max_articles_per_request:
        raise HTTPException(422, f"at most {settings.max_articles_per_request} articles per request")
    articles, problems = [], []
    first: dict[str, int] = {}  # article id -> the record that gave it first
    for n, record in enumerate(body.articles):
        try:
            article = parse_record(record.model_dump(exclude_none=True), location=f"articles[{n}]")
        except InvalidArticleError as exc:
            problems.append(str(exc))
            continue
        if article.id in first:
            problems.append(f"articles[{n}]: id {article.id!r} repeats articles[{first[article.id]}]")
            continue
        first[article.id] = n
        if len(article.text) > settings.max_article_chars:
            problems.append(f"articles[{n}]: text longer than {settings.max_article_chars} characters")
        articles.append(article)
    if problems:
        raise HTTPException(422, "; ".join(problems))
    return articles
