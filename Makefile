# PilotQA — two set-up commands: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run serve test lint bench bench-quick compat setup model ingest browser-deps office-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

model: setup  ## convert the bundled model into the shared cache (once)
	$(BIN)/pilotqa prepare

ingest: model office-deps  ## ingest corpus/ into the default knowledge base (only what changed)
	$(BIN)/pilotqa ingest corpus --prune --quiet

run: ingest
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000
serve: ingest  ## the OpenAI-compatible endpoint, JSON API and MCP on http://127.0.0.1:8000
	$(BIN)/pilotqa serve --host $(SERVE_HOST) --port $(SERVE_PORT)

browser-deps:
	@bash .ci/browser-deps

office-deps:  ## LibreOffice (no GUI) for .doc and .wps files, when missing and root
	@bash .ci/office-deps

test: model browser-deps office-deps
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kb models ingest assistant ops service cli ui app.py bench tests

bench: model
	$(BIN)/python -m bench

bench-quick: model
	$(BIN)/python -m bench --quick

compat: model browser-deps  ## Open WebUI, langchain-openai and openai (own venvs in .compat/) against the service
	$(BIN)/python -m bench.compat

clean:
	rm -rf $(VENV) .pilotqa
