"""The fast embedding path: the same model run by ONNX Runtime, optionally with int8 weights.

Owns: turning a sentence-transformers folder (a BERT-family transformer, mean pooling,
normalisation) into ONNX files once, in the shared cache and atomically — export with
PyTorch, fuse attention/LayerNorm/GELU with ONNX Runtime's transformer optimiser, then
quantise the weights to int8 per channel — and encoding text with them (length-sorted
batches, mean pooling, unit vectors). Also owns one repair for another model's file: a copy of an ONNX file
with its subnormal weights set to zero (``models.ocr`` runs the OCR detector from it). Does not own: choosing the
backend or the model folder (``models.embed``), the tokenizer files (``models.e5``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from hashlib import sha1
from pathlib import Path

import numpy as np
import onnxruntime as ort

from models.e5 import load_tokenizer

log = logging.getLogger(__name__)

FORMAT_VERSION = 1  # bump when the files this module writes change
FILES = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}
_FAMILIES = {"bert", "xlm-roberta", "roberta"}


def supported(folder: Path) -> bool:
    """True when ``folder`` is a transformer + mean pooling (+ normalise) model of a BERT family."""
    try:
        modules = json.loads((folder / "modules.json").read_text("utf-8"))
        config = json.loads((folder / "config.json").read_text("utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, IndexError):
        return False
    return (
        config.get("model_type") in _FAMILIES
        and kinds in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])
        and bool(pooling.get("pooling_mode_mean_tokens"))
        and not any(v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    )


def onnx_dir(folder: Path, cache_dir: Path) -> Path:
    """The cache folder holding the ONNX files of the model in ``folder``."""
    key = sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    return cache_dir / "onnx" / f"{folder.name}-{key}-v{FORMAT_VERSION}"


def ensure(folder: Path, cache_dir: Path) -> Path:
    """The ONNX folder for ``folder``, building it first if needed (about half a minute, once)."""
    dest = onnx_dir(folder, cache_dir)
    if all((dest / f).exists() for f in FILES.values()):
        return dest
    log.info("building the ONNX model for %s into %s", folder, dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=dest.parent))
    try:
        build(folder, tmp)
        shutil.rmtree(dest, ignore_errors=True)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not all((dest / f).exists() for f in FILES.values()):
                raise  # not a concurrent build that won the race
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def build(folder: Path, out: Path) -> None:
    """Export, fuse and quantise the transformer in ``folder`` into ``out``, quietly."""
    root = logging.getLogger()
    quiet = _DropAdvice()
    root.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and exporter chatter about a graph we verify in tests
            _build(folder, out)
    finally:
        root.removeFilter(quiet)


class _DropAdvice(logging.Filter):
    """The quantiser logs generic advice on the root logger; it does not apply here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _build(folder: Path, out: Path) -> None:
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    class LastHidden(torch.nn.Module):  # export sees two inputs and one output
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    # eager attention exports as plain ops that the optimiser fuses into one Attention node
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager", local_files_only=True).eval()
    raw = out / "raw.onnx"
    ids = torch.tensor([[0, 6, 2]], dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            LastHidden(model),
            (ids, torch.ones_like(ids)),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "hidden")},
            opset_version=17,
            dynamo=False,
        )
    cfg = model.config
    fused = optimizer.optimize_model(
        str(raw), model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size, opt_level=1
    )
    fused.save_model_to_file(str(out / FILES["onnx"]))
    raw.unlink()
    quantize_dynamic(
        out / FILES["onnx"],
        out / FILES["onnx-int8"],
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def without_subnormals(src: Path, dst: Path) -> int:
    """Write ``src`` to ``dst`` with every subnormal float32 weight (nonzero, below 1.2e-38) set to zero; returns
    how many were. They change no output, but x86 CPUs multiply by them many times more slowly than by normal
    numbers: the PP-OCRv6 detector has 256,000 of them in two 1x1 convolutions, which took two thirds of its time."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(src))
    tiny = np.finfo(np.float32).tiny
    flushed = 0
    for weight in model.graph.initializer:
        if weight.data_type != onnx.TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(weight)
        subnormal = (values != 0) & (np.abs(values) < tiny)
        if subnormal.any():
            flushed += int(subnormal.sum())
            weight.CopyFrom(numpy_helper.from_array(np.where(subnormal, np.float32(0), values), weight.name))
    onnx.save(model, str(dst))
    return flushed


class OnnxEncoder:
    """Mean-pooled, normalised sentence vectors from an ONNX file; sessions are thread-safe."""

    def __init__(self, folder: Path, onnx_file: Path) -> None:
        max_len = int(json.loads((folder / "sentence_bert_config.json").read_text("utf-8"))["max_seq_length"])
        self.tokenizer, self._pad = load_tokenizer(folder, max_len)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = min(os.cpu_count() or 1, 8)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Unit vectors of ``texts`` in order; batches hold texts of similar length (less padding)."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.full((len(idx), width), self._pad, np.int64)
            mask = np.zeros((len(idx), width), np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            with self._lock:
                hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), np.float32)
            out[idx] = pooled
        return out if out is not None else np.zeros((0, 0), np.float32)
