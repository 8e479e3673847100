"""The sequence data kind: vocabulary round trips, text files and their errors, prompts,
the codec."""

import json

import numpy as np
import pytest
import torch

from ganforge.config import TrainConfig
from ganforge.data import build_dataset, dataset_info, decoder_from_codec
from ganforge.data.sequence import (
    END,
    SequenceDataset,
    Vocabulary,
    read_text_lines,
    text_dataset,
)
from ganforge.errors import DataError


def test_char_vocabulary_round_trip():
    lines = ["37+45=82", "12-30=-18", "0*0=0", ""]
    vocab = Vocabulary.from_lines(lines)
    assert vocab.tokens[0] == END and vocab.tokens[1:] == sorted(set("".join(lines)))
    ids = vocab.encode(lines, 10)
    assert ids.shape == (4, 10) and ids.dtype == torch.long
    assert (ids[2, 5:] == 0).all() and (ids[3] == 0).all()  # padded with the end token
    assert vocab.decode(ids) == lines
    # decoding stops at the first end token even if tokens follow it
    ids[0, 3] = 0
    assert vocab.decode(ids)[0] == "37+"


def test_word_vocabulary_round_trip():
    lines = ["the cat sat", "a  dog   ran far"]
    vocab = Vocabulary.from_lines(lines, "word")
    assert vocab.tokens == [END, "a", "cat", "dog", "far", "ran", "sat", "the"]
    assert vocab.decode(vocab.encode(lines, 4)) == ["the cat sat", "a dog ran far"]


def test_unknown_token_and_overlong_line_are_named():
    vocab = Vocabulary.from_lines(["abc"])
    with pytest.raises(DataError, match="'z'"):
        vocab.encode(["abz"], 5)
    with pytest.raises(DataError, match="'abcabc'"):
        vocab.encode(["abcabc"], 5)


def test_dataset_one_hot_decode_and_batches():
    data = SequenceDataset("t", ["ab", "ba", "aab"], ["bb"])
    assert data.kind == "sequence" and data.shape == (3, 3) and data.size == 3
    x = data.encode(["ab", "b"])
    assert x.shape == (2, 3, 3)
    assert torch.equal(x.sum(dim=1), torch.ones(2, 3))  # one-hot columns
    assert data.decode(x) == ["ab", "b"]
    # decode reads the argmax of relaxed (probability) columns too
    soft = 0.6 * x + 0.4 / 3
    assert data.decode(soft) == ["ab", "b"]
    xb, yb = data.sample_batch(8, torch.Generator().manual_seed(0))
    assert xb.shape == (8, 3, 3) and yb is None
    assert set(data.decode(xb)) <= {"ab", "ba", "aab"}
    assert data.sample_real(3, seed=1) == data.sample_real(3, seed=1)
    assert sorted(data.sample_real(3, seed=1)) == ["aab", "ab", "ba"]  # without replacement


def test_prompted_batches_hold_prompts_up_to_the_equals_sign():
    from ganforge.data.sequence import grammar_dataset

    cfg = TrainConfig(dataset="arithmetic", model={"conditional": "prompt"})
    data = grammar_dataset("arithmetic", cfg)
    assert data.prompted and data.grammar == "arithmetic" and data.max_len == 10
    x, y = data.sample_batch(400, torch.Generator().manual_seed(0))
    assert y.shape == (400, 10)
    lines = data.decode(x)
    free = (y < 0).all(dim=1)
    assert 0.4 < free.float().mean() < 0.6  # about half write whole lines
    for line, row, f in zip(lines, y.tolist(), free.tolist(), strict=True):
        if f:
            continue
        prompt = line[: line.index("=") + 1]
        assert data.vocab.decode(torch.tensor([[i for i in row if i >= 0]]))[0] == prompt
        assert all(i < 0 for i in row[len(prompt) :])
    c = data.prompts(["37+45=", ""])
    assert c[1].eq(-1).all() and data.vocab.decode(c[:1].clamp(min=0))[0] == "37+45="
    with pytest.raises(DataError, match="'x'"):
        data.prompts(["3x4="])
    with pytest.raises(DataError, match="shorter than the maximum length 10"):
        data.prompts(["1234567890"])


def test_codec_decodes_without_the_data():
    data = text_dataset_from(["héllo wörld", "abc"])
    codec = json.loads(json.dumps(data.codec()))
    dec = decoder_from_codec(codec)
    assert dec.kind == "sequence" and dec.shape == data.shape
    x = data.encode(["abc", "héllo wörld"])
    assert dec.decode(x) == ["abc", "héllo wörld"]


def text_dataset_from(lines, tmp=None):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "lines.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return text_dataset(str(path))


def test_text_file_lines_split_and_drops(tmp_path):
    path = tmp_path / "codes.txt"
    lines = [f"AB-{i:04d}" for i in range(100)]
    path.write_text("\r\n".join(lines[:50]) + "\n\n   \n" + "\n".join(lines[50:]) + "\n" + "x" * 70)
    with pytest.warns(UserWarning, match="dropped 1 of 101 lines longer than 64"):
        data = text_dataset(str(path))
    assert data.dropped == 1 and data.max_len == 7
    assert len(data.train_lines) == 90 and len(data.heldout_lines) == 10
    assert not set(data.train_lines) & set(data.heldout_lines)
    assert sorted(data.train_lines + data.heldout_lines) == lines
    info = dataset_info(str(path))
    assert info.kind == "sequence" and info.default_preset == "seq-gru"
    assert info.default_loss == "wgan-gp"
    with pytest.warns(UserWarning, match="dropped 1 of 101 lines longer than 8"):
        built = build_dataset(TrainConfig(dataset=str(path), max_len=8))
    assert built.max_len == 7 and built.dropped == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "no non-empty lines"),
        (b"\n  \n\n", "no non-empty lines"),
        (b"abc\x00def\n", "binary"),
        (b"caf\xe9\n", "not UTF-8"),
    ],
)
def test_bad_text_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_text_lines(path)


def test_all_lines_too_long(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("abcdef\nabcdefgh\n")
    with pytest.raises(DataError, match="all 2 lines are longer than the maximum length 5"):
        text_dataset(str(path), TrainConfig(dataset=str(path), max_len=5))
    with pytest.raises(DataError, match="does not exist"):
        read_text_lines(tmp_path / "missing.txt")


def test_builtins_are_registered_sequences():
    for name in ("arithmetic", "expressions"):
        info = dataset_info(name)
        assert info.kind == "sequence" and info.default_loss == "wgan-gp"
    data = build_dataset(TrainConfig(dataset="expressions"))
    assert data.grammar == "expressions" and not data.prompted
    assert data.shape == (len(data.vocab), 21)
    assert data.decode(data.encode(data.train_lines[:50])) == data.train_lines[:50]
    assert np.all([len(s) <= 21 for s in data.heldout_lines])
