"""The answer the README's worked example shows has the fields the API sends, no more, no fewer."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel

from qa.api.schemas import AnswerOut, HitOut, InterpretedOut
from tests.support.processes import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _shown_answer() -> dict[str, object]:
    example = README[README.index("\n## Worked example\n") :]
    block = re.search(r"```json\n(.*?)```", example, flags=re.DOTALL)
    assert block is not None
    return json.loads(block.group(1))


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_the_worked_examples_answer_names_every_field_sent() -> None:
    answer = _shown_answer()
    interpreted, hits = answer["interpreted"], answer["hits"]
    assert isinstance(interpreted, dict) and isinstance(hits, list)

    assert set(answer) == _fields(AnswerOut)
    assert set(interpreted) == _fields(InterpretedOut)
    assert set(hits[0]) == _fields(HitOut)
