# Two commands do all the set-up on a fresh machine (Python 3.11, Java 17, Maven):
#   make demo   – install into .venv, start the local Kafka + Elasticsearch, run the whole service once (newsmon demo)
#   make test   – install into .venv, lint, run the test suite (it starts the local stack itself)
# and, beyond the set-up:
#   make bench  – every benchmark against the local stack: one table, JSON in benchmarks/results/latest.json
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install demo test lint bench stack-down clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/newsmon demo

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python -m benchmarks

stack-down: install
	$(BIN)/newsmon stack down

clean:
	rm -rf $(VENV) build *.egg-info
