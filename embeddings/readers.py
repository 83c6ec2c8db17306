"""Read articles from .txt, .jsonl and .json files, reporting malformed input instead of failing."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from embeddings.articles import Article, article_problem, is_text
from embeddings.errors import InvalidArticleError

__all__ = [
    "DEFAULT_MAX_CHARS",
    "SUFFIXES",
    "Problem",
    "count_articles",
    "derive_title",
    "iter_articles",
    "parse_date",
    "parse_record",
    "parse_text_article",
    "read_articles",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 2_000_000
SUFFIXES = (".txt", ".jsonl", ".json")
TITLE_MAX_CHARS = 200

# Known outlets: a pattern matching any spelling seen in the wild, and the canonical spelling.
# Azernews comes first so that "azernews.az" is not read as "news.az".
_SOURCES: tuple[tuple[str, str], ...] = (
    (r"azer[ ]?news(?:\.az)?", "Azernews"),
    (r"(?<![\w.])news\.az", "News.Az"),
)
_SOURCE = "(?:" + "|".join(f"(?:{pattern})" for pattern, _ in _SOURCES) + r")(?![\w])"
_BARE_SOURCE_RE = re.compile(rf"^\W*{_SOURCE}\W*$", re.IGNORECASE)
_SOURCE_BYLINE_RE = re.compile(rf"^by[ \t]+{_SOURCE}[ \t]*\.?$", re.IGNORECASE)
_CREDIT_RE = re.compile(
    rf"{_SOURCE}[ \t]+(?:informs|reports|reported|writes|has learned|learned)\b"
    rf"|\b(?:told|via|according to|cited by|reported by)[ \t]+{_SOURCE}",
    re.IGNORECASE,
)
# A trailing credit clause in a first sentence: ", News.az reports." or ", the ... told News.Az."
_TITLE_CREDIT_RE = re.compile(
    rf",[ \t]+(?:{_SOURCE}[ \t]+(?:informs|reports|writes)|[^,]{{0,80}}\btold[ \t]+{_SOURCE})[ \t]*\.?$",
    re.IGNORECASE,
)
_AUTHOR_BYLINE_RE = re.compile(r"^By[ \t]+[A-Z][\w.'’-]*(?:[ \t]+[A-Z][\w.'’-]*){0,4}$")
_WIDGET_RE = re.compile(r"^\+[ \t]*↺?[ \t]*[−–-][ \t]*\d{1,3}[ \t]*px$")
# "date 2024-01-05", "Date: 2024-1-5": a date line; one whose date is written otherwise ("date 2024/01/05",
# "Date: 05.01.2024") is still one, refused for its date rather than read as the headline of an undated page.
_DATE_LINE_RE = re.compile(
    r"^[ \t]*date(?:[ \t]*:[ \t]*|[ \t]+)(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4})(?![\w-])[ \t]*(.*)$", re.IGNORECASE
)
_DATE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF16 = "UTF-16 text (it starts with a UTF-16 byte-order mark): save it as UTF-8"
_ISO_RE = re.compile(
    r"^(?P<y>\d{4})(?P<sep>-?)(?P<m>\d{2})(?P=sep)(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):?(?P<M>\d{2})(?::?(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"(?:Z|[+-](?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?)?$"
)
# Han, kana and Hangul: scripts written without spaces, where a headline is one "word".
_UNSPACED_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# From the start of a run of punctuation only, as text.py's _BOUNDARY (linear in a run of dots).
_SENTENCE_END_RE = re.compile(r"(?<![.!?…])[.!?…]+[\"”’)\]]*(?=\s+[\"“‘(\[]?(\w))")
# fmt: off
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "maj", "sgt", "capt", "adm", "gov", "sen", "rep",
    "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs", "etc", "no",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# fmt: on


@dataclass(frozen=True, slots=True)
class Problem:
    """A file or record that was skipped, and why; `location` is `path` or `path:line`.
    `repeated`: an article whose id an earlier one has (that one is read, so nothing of it is gone)."""

    location: str
    reason: str
    repeated: bool = False

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


def read_articles(
    paths: Iterable[str | Path], *, max_chars: int = DEFAULT_MAX_CHARS
) -> tuple[list[Article], list[Problem]]:
    """Read every article under `paths`, collecting what had to be skipped.

    Args:
        paths: Files or folders (searched recursively for .txt, .jsonl and .json files).
        max_chars: Longest article text accepted, in characters.

    Returns:
        The articles in reading order, and the problems met on the way.
    """
    problems: list[Problem] = []
    articles = list(iter_articles(paths, max_chars=max_chars, on_problem=problems.append))
    return articles, problems


def iter_articles(
    paths: Iterable[str | Path],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    on_problem: Callable[[Problem], None] | None = None,
) -> Iterator[Article]:
    """Stream articles from files and folders, one at a time.

    A folder is searched recursively in sorted order; hidden files and folders are skipped, and
    so are files with other suffixes. A missing path, an unreadable file, a malformed record, or
    an article whose id an earlier one has (the first is kept) is passed to `on_problem` (or
    logged as a warning when it is None) and skipped.

    Args:
        paths: Files or folders.
        max_chars: Longest article text accepted, in characters.
        on_problem: Called with each skipped file or record.

    Yields:
        Articles in path order, then file order.
    """
    report = on_problem if on_problem is not None else _log_problem
    first: dict[str, str] = {}  # article id -> where it was read first (`path`, `path:line`)
    for given in paths:
        root = Path(given)
        if root.is_dir():
            files = _walk(root, report)
        elif root.exists():
            files = iter((root,))
        else:
            report(Problem(str(root), "no such file or directory"))
            continue
        for file in files:
            for location, article in _read_file(file, max_chars=max_chars, report=report):
                if article.id in first:  # two stories named story.txt in two folders, say
                    reason = f"id {article.id!r} was already read from {first[article.id]}"
                    report(Problem(location, reason, repeated=True))
                    continue
                first[article.id] = location
                yield article


def count_articles(paths: Iterable[str | Path]) -> int | None:
    """How many articles `iter_articles(paths)` reads at most, where that is cheap to know.

    One per `.txt` file, one per non-blank line of a `.jsonl` file (a malformed line counts too);
    missing paths count nothing. None when a `.json` document is among them (counting its records
    means parsing it) or a path is neither a file nor a folder (a pipe can be read only once).
    """
    count = 0
    for given in paths:
        root = Path(given)
        if root.is_dir():
            files: Iterator[Path] = _walk(root, lambda _problem: None)
        elif root.is_file():
            files = iter((root,))
        elif root.exists():
            return None
        else:
            continue
        for file in files:
            suffix = file.suffix.lower()
            if suffix == ".json":
                return None
            if suffix == ".txt":
                count += 1
            elif suffix == ".jsonl":
                try:
                    with file.open("rb") as stream:
                        count += sum(1 for line in stream if line.strip())
                except OSError:
                    continue  # unreadable: iter_articles reports it
    return count


def parse_text_article(
    raw: str, *, article_id: str, path: str | None = None, max_chars: int | None = None
) -> Article:
    """Parse a scraped text page: optional ` date YYYY-MM-DD` first line, then the body.

    Debris (the font-size widget line, a bare source-credit line, a `By <source>` byline) is
    removed; a credit such as "... told News.Az." stays in the text but sets `source`.

    Args:
        raw: The decoded file content.
        article_id: Id to give the article (readers use the file stem).
        path: Where the text came from, kept on the article and used in error locations.
        max_chars: Longest cleaned text accepted; None for no limit.

    Raises:
        InvalidArticleError: The date is not a real date, or no text is left after cleaning.
    """
    location = path or article_id
    lines = _normalise(raw).split("\n")
    date: dt.date | None = None
    match = _DATE_LINE_RE.match(lines[0])
    if match:
        if not _DATE_RE.fullmatch(match.group(1)):
            reason = f"invalid date {match.group(1)!r} (expected YYYY-MM-DD)"
            raise InvalidArticleError(f"{location}:1", reason)
        try:
            date = dt.date.fromisoformat(_pad_date(match.group(1)))
        except ValueError as exc:
            raise InvalidArticleError(f"{location}:1", f"invalid date {match.group(1)!r}") from exc
        lines[0] = match.group(2)

    source: str | None = None
    kept: list[str] = []
    for line in lines:
        stripped = line.strip()
        if _WIDGET_RE.match(stripped):
            continue
        if _BARE_SOURCE_RE.match(stripped) or _SOURCE_BYLINE_RE.match(stripped):
            source = source or _canonical_source(stripped, whole=False)
            continue
        kept.append(line)
    text = _normalise("\n".join(kept))
    if not text:
        raise InvalidArticleError(location, "no article text")
    if source is None:
        credit = _CREDIT_RE.search(text)
        source = _canonical_source(credit.group(0), whole=False) if credit else None
    article = Article(id=article_id, title=derive_title(text), text=text, date=date, source=source, path=path)
    # a file name that is no id, a text over `max_chars`, ...: the checks every article passes
    if (problem := article_problem(article, max_chars)) is not None:
        raise InvalidArticleError(location, problem)
    return article


def derived_id(title: str, text: str, source: str | None, url: str | None) -> str:
    """The id of a record that has none: from its title and text, and its source and url where
    it has them, so that syndicated copies (one text, other sources) are articles of their own.
    The date is left out: a corrected date updates the article. (Records with neither source nor
    url keep the ids of releases before source and url counted.)"""
    key = f"{title}\n{text}" + (f"\n{source or ''}\n{url or ''}" if source or url else "")
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def parse_record(
    record: Mapping[str, Any],
    *,
    location: str,
    path: str | None = None,
    max_chars: int | None = None,
) -> Article:
    """Turn one JSON article record into an Article.

    Fields: `id` (string or integer; derived from title and text when missing), `title` (derived
    from the text when missing), `text` or `body` (required), `date` or `published_at` (ISO-8601,
    date part kept, may be null), `source`, `url`. The text is kept as given, only stripped.

    Args:
        record: The decoded JSON object.
        location: Where the record is (`path:line`), used in error messages.
        path: The file the record came from, kept on the article.
        max_chars: Longest text accepted; None for no limit.

    Raises:
        InvalidArticleError: The record is not an object, has no text, or a field has a bad value.
    """
    if not isinstance(record, Mapping):
        raise InvalidArticleError(location, f"record is not an object (got {type(record).__name__})")
    body = record.get("text")
    if body is None:
        body = record.get("body")
    if body is None:
        raise InvalidArticleError(location, "missing text")
    if not isinstance(body, str):
        raise InvalidArticleError(location, f"text is not a string (got {type(body).__name__})")
    text = body.strip()
    if not text:
        raise InvalidArticleError(location, "empty text")

    title = _optional_str(record, "title", location) or derive_title(text)
    raw_date = record.get("date")
    if raw_date is None:
        raw_date = record.get("published_at")
    if raw_date is not None and not isinstance(raw_date, str):
        raise InvalidArticleError(location, f"date is not a string (got {type(raw_date).__name__})")
    try:
        date = parse_date(raw_date) if raw_date and raw_date.strip() else None
    except ValueError as exc:
        raise InvalidArticleError(location, str(exc)) from exc
    source = _optional_str(record, "source", location)

    raw_id = record.get("id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (str, int))):
        raise InvalidArticleError(location, f"id is not a string or integer (got {type(raw_id).__name__})")
    article_id = str(raw_id) if raw_id is not None else ""  # as given: " x" is refused, not made "x"
    if not (is_text(title) and is_text(text)):
        raise InvalidArticleError(location, "title or text holds a lone surrogate, which is not text")
    source = _canonical_source(source, whole=True) if source else None
    url = _optional_str(record, "url", location)
    article = Article(
        id=article_id or derived_id(title, text, source, url),
        title=title,
        text=text,
        date=date,
        source=source,
        url=url,
        path=path,
    )
    if (problem := article_problem(article, max_chars)) is not None:  # NUL characters, its length, ...
        raise InvalidArticleError(location, problem)
    return article


def parse_date(value: str) -> dt.date:
    """The date part of an ISO-8601 calendar date or date-time.

    Accepts the extended and basic forms, with an optional time and offset: `2024-01-05`,
    `20240105`, `2024-01-05T10:00:00Z`, `2024-01-05 10:00:00.123+02:00`. The offset is not applied:
    the date is the one written.

    Raises:
        ValueError: Not such a form, or not a real date or time.
    """
    match = _ISO_RE.match(value.strip())
    if not match:
        raise ValueError(f"invalid date {value!r} (expected ISO-8601)")
    fields = {key: int(found) for key, found in match.groupdict().items() if found and key != "sep"}
    limits = {"H": 23, "M": 59, "S": 60, "oh": 23, "om": 59}
    if any(fields[key] > top for key, top in limits.items() if key in fields):
        raise ValueError(f"invalid date {value!r} (time out of range)")
    try:
        return dt.date(fields["y"], fields["m"], fields["d"])
    except ValueError as exc:
        raise ValueError(f"invalid date {value!r} ({exc})") from exc


def derive_title(text: str) -> str:
    """A title for an article that has none: its headline-like first line, else its first sentence.

    Author bylines ("By Vugar Khalilov") are passed over. A first sentence longer than 200
    characters is cut at a word boundary and ends with "…"; a trailing credit clause such as
    ", News.az reports." is dropped.
    """
    body = _normalise(
        "\n".join(line for line in text.split("\n") if not _AUTHOR_BYLINE_RE.match(line.strip()))
    )
    if not body:
        return _shorten(" ".join(text.split()) or "untitled")
    lines = [line.strip() for line in body.split("\n") if line.strip()]
    if len(lines) > 1 and _is_headline(lines[0], lines[1]):
        return _shorten(lines[0])
    paragraph = body.split("\n\n", 1)[0]
    sentence = " ".join(_first_sentence(paragraph).split())
    sentence = _TITLE_CREDIT_RE.sub(".", sentence)
    return _shorten(sentence)


def _read_file(
    path: Path, *, max_chars: int, report: Callable[[Problem], None]
) -> Iterator[tuple[str, Article]]:
    """The articles of one file, each with where it is (`path`, `path:line` or `path:[index]`)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".txt":
            article = _read_text_file(path, max_chars=max_chars, report=report)
            if article is not None:
                yield str(path), article
        elif suffix == ".jsonl":
            yield from _read_jsonl(path, max_chars=max_chars, report=report)
        elif suffix == ".json":
            yield from _read_json(path, max_chars=max_chars, report=report)
        else:
            report(
                Problem(str(path), f"unsupported file type {path.suffix!r} (expected {', '.join(SUFFIXES)})")
            )
    except OSError as exc:
        report(Problem(str(path), f"cannot read file: {exc.strerror or exc}"))


def _read_text_file(path: Path, *, max_chars: int, report: Callable[[Problem], None]) -> Article | None:
    # UTF-8 needs at most 4 bytes a character: anything bigger cannot fit and is not read at all.
    if path.stat().st_size > 4 * max_chars + 65_536:
        report(Problem(str(path), f"file too large: over {max_chars} characters"))
        return None
    data = path.read_bytes()
    text = _decode(data, str(path), report, number_lines=True)
    if text is None:
        return None
    try:
        return parse_text_article(text, article_id=path.stem, path=str(path), max_chars=max_chars)
    except InvalidArticleError as exc:
        report(Problem(exc.location, exc.reason))
        return None


def _read_jsonl(
    path: Path, *, max_chars: int, report: Callable[[Problem], None]
) -> Iterator[tuple[str, Article]]:
    with path.open("rb") as stream:
        # Read line by line, UTF-16 would be a problem on every line: say it once, for the file.
        if stream.read(2) in _UTF16_BOMS:
            report(Problem(str(path), _UTF16))
            return
        stream.seek(0)
        for lineno, data in _lines(stream, limit=12 * max_chars + 65_536):
            location = f"{path}:{lineno}"
            if data is None:
                report(Problem(location, "line too long"))
                continue
            if not data.strip():
                continue
            line = _decode(data, location, report, number_lines=False)
            if line is None:
                continue
            article = _parse_json_text(line, location, path=str(path), max_chars=max_chars, report=report)
            if article is not None:
                yield location, article


def _read_json(
    path: Path, *, max_chars: int, report: Callable[[Problem], None]
) -> Iterator[tuple[str, Article]]:
    # A JSON document cannot be parsed piecewise with the standard library; use .jsonl for big corpora.
    text = _decode(path.read_bytes(), str(path), report, number_lines=True)
    if text is None:
        return
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        report(Problem(str(path), _json_error(exc)))
        return
    if isinstance(document, dict):
        records: list[Any] = [document]
    elif isinstance(document, list):
        records = document
    else:
        report(Problem(str(path), f"expected an object or a list of objects (got {type(document).__name__})"))
        return
    for index, record in enumerate(records):
        location = f"{path}:[{index}]" if isinstance(document, list) else str(path)
        try:
            yield location, parse_record(record, location=location, path=str(path), max_chars=max_chars)
        except InvalidArticleError as exc:
            report(Problem(exc.location, exc.reason))


def _parse_json_text(
    line: str, location: str, *, path: str, max_chars: int, report: Callable[[Problem], None]
) -> Article | None:
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        report(Problem(location, _json_error(exc)))
        return None
    try:
        return parse_record(record, location=location, path=path, max_chars=max_chars)
    except InvalidArticleError as exc:
        report(Problem(exc.location, exc.reason))
        return None


def _lines(stream: BinaryIO, *, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Number the lines of a binary stream; a line over `limit` bytes comes back as None, unread."""
    lineno = 0
    while True:
        data = stream.readline(limit + 1)
        if not data:
            return
        lineno += 1
        if len(data) <= limit or data.endswith(b"\n"):
            yield lineno, data
            continue
        while data and not data.endswith(b"\n"):
            data = stream.readline(65_536)
        yield lineno, None


def _decode(
    data: bytes, location: str, report: Callable[[Problem], None], *, number_lines: bool
) -> str | None:
    if data.startswith(_UTF16_BOMS):
        report(Problem(location, _UTF16))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f"{location}:{line}" if number_lines else location
        report(Problem(where, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"))
        return None
    if "\x00" in text:
        report(Problem(location, "contains NUL bytes (binary or UTF-16 file?)"))
        return None
    return text


def _walk(folder: Path, report: Callable[[Problem], None]) -> Iterator[Path]:
    """Article files under `folder`, depth first, in the order of their sorted relative paths."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted((e.name, e.is_dir(follow_symlinks=False), e.is_file()) for e in scan)
    except OSError as exc:
        report(Problem(str(folder), f"cannot list folder: {exc.strerror or exc}"))
        return
    for name, is_dir, is_file in entries:
        if name.startswith("."):
            continue
        if is_dir:
            if _is_index(folder / name):  # `qa index corpus/ --index-dir corpus/index`: not articles
                logger.info("skipped %s: an index, not articles", folder / name)
                continue
            yield from _walk(folder / name, report)
        elif Path(name).suffix.lower() in SUFFIXES:
            if is_file:
                yield folder / name
            elif (folder / name).exists():  # a pipe or a device would block the run, waiting
                report(Problem(str(folder / name), "not a regular file"))
            else:
                report(Problem(str(folder / name), "cannot read file: a link to nothing"))


def _is_index(folder: Path) -> bool:
    """Whether `folder` holds an index of this project (its `CURRENT` pointer and `versions/`)."""
    return (folder / "CURRENT").is_file() and (folder / "versions").is_dir()


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _canonical_source(text: str, *, whole: bool) -> str:
    """The canonical spelling of a known outlet named in `text` (or that is all of `text`)."""
    text = text.strip()
    for pattern, canonical in _SOURCES:
        found = re.fullmatch if whole else re.search
        if found(pattern, text, re.IGNORECASE):
            return canonical
    return text


def _optional_str(record: Mapping[str, Any], key: str, location: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArticleError(location, f"{key} is not a string (got {type(value).__name__})")
    return value.strip() or None


def _pad_date(value: str) -> str:
    year, month, day = value.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _is_headline(line: str, following: str) -> bool:
    # A wrapped sentence continues on a line that starts in lower case; a headline does not.
    words = len(line.split())
    return (
        (2 <= words <= 25 or (words == 1 and _UNSPACED_RE.search(line) is not None))
        and len(line) <= TITLE_MAX_CHARS
        and not line.endswith((".", ",", ";", ":", "…", "。", "，", "；", "：", "！", "？"))
        and not following[:1].islower()
    )


def _first_sentence(paragraph: str) -> str:
    for match in _SENTENCE_END_RE.finditer(paragraph):
        if not (match.group(1).isupper() or match.group(1).isdigit()):
            continue  # a sentence starts with a capital letter or a number
        word = _word_before(paragraph, match.start())
        parts = word.lstrip('("“‘').split(".")
        if paragraph[match.start()] == "." and (
            word.lower().lstrip('("“‘') in _ABBREVIATIONS or all(len(part) <= 1 for part in parts)
        ):
            continue  # "Gen. Munir", "A. Munir", "U.S. forces": not the end of a sentence
        return paragraph[: match.end()]
    return paragraph


def _word_before(text: str, end: int) -> str:
    """The last word of `text[:end]`, as `text[:end].split()[-1]` ("" when none), without copying
    `text[:end]`: once per sentence end, that was quadratic in a paragraph of initials ("A. B. ...")."""
    stop = end
    while stop > 0 and text[stop - 1].isspace():
        stop -= 1
    start = stop
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:stop]


def _shorten(text: str) -> str:
    if len(text) <= TITLE_MAX_CHARS:
        return text
    cut = text[: TITLE_MAX_CHARS - 1]
    space = cut.rfind(" ")
    if space > TITLE_MAX_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} (column {exc.colno})"
    return "invalid JSON: nested too deeply"


def _log_problem(problem: Problem) -> None:
    logger.warning("skipped %s", problem)
