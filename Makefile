# huikuan: the two fresh-machine commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
BIN := $(VENV)/bin

.PHONY: install browser demo test lint clean

$(BIN)/huikuan: pyproject.toml examples/huikuan-gentle/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The example third-party plugin, so its tests run with the suite.
	$(BIN)/pip install --quiet -e examples/huikuan-gentle
	touch $@

install: $(BIN)/huikuan

## Set up, load the demo portfolio into ./var/huikuan.sqlite3, run a cycle, make an
## admin key and a workspace user `demo` (both printed), and serve the API and the
## workspace on http://$(HOST):$(PORT) (Ctrl-C stops it; `make demo PORT=8080` chooses
## another port).
demo: install
	$(BIN)/huikuan demo
	$(BIN)/huikuan cycle || true     # today where the company is ([company] timezone)
	@echo "admin API key (keep it):"
	@$(BIN)/huikuan keys create --role admin --label "make demo"
	@PW=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	  (echo "$$PW" | $(BIN)/huikuan users create demo --role manager >/dev/null 2>&1 || \
	   echo "$$PW" | $(BIN)/huikuan users password demo >/dev/null) && \
	  echo "workspace: http://$(HOST):$(PORT)/app/  user demo, password $$PW"
	$(BIN)/huikuan serve --host $(HOST) --port $(PORT)

## Set up and run every check: ruff, mypy --strict on every package, pytest on SQLite and PostgreSQL
## (the workspace's pages in Debian's Chromium, installed here if missing).
test: install browser lint
	$(BIN)/pytest

# The browser the workspace's tests drive (Playwright launches it; nothing is downloaded
# from Playwright's own servers).
browser:
	@command -v chromium >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# mypy reads the packages under the names they install as (huikuan.core, …): the
# editable install maps them with an import hook mypy cannot follow, so it gets a
# tree of links instead.
lint: install
	$(BIN)/ruff check .
	mkdir -p .typecheck/huikuan
	for d in core plugins adapters projections; do ln -sfn ../../$$d .typecheck/huikuan/$$d; done
	MYPYPATH=.typecheck $(BIN)/mypy --explicit-package-bases -p huikuan

clean:
	rm -rf $(VENV) var .typecheck .pytest_cache .mypy_cache .ruff_cache .hypothesis
