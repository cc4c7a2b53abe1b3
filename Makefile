# Two commands: `make run` (set up, then serve the dashboard) and `make test`
# (set up, then run the whole suite, browser tests included).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Where `make run` listens: this machine only, unless opened on purpose (ADDRESS=0.0.0.0).
ADDRESS ?= 127.0.0.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export JAX_PLATFORMS ?= cpu

.PHONY: run test quick lint venv test-deps chromium bench clean reproduce screenshots

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

venv: $(VENV)/.runtime

test-deps: $(VENV)/.test chromium

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; }

run: venv
	$(VENV)/bin/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT)

# Two workers (one per core here; `auto` follows the machine), the browser tests together on one.
test: test-deps lint
	$(PY) -m pytest -q -n auto --dist loadgroup

# The quick loop while working: no browser, nothing slow (under a minute once warm).
quick: $(VENV)/.test
	$(PY) -m pytest -q -n auto -m "not slow and not browser"

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .

# Every figure of both posts as PNG (kaleido renders with Debian's chromium) + repro/headline.json.
reproduce: venv chromium
	$(PY) -m l2l_core reproduce --out repro

# Every page at 1280x720 and 1024x768 into docs/screenshots/ (a server and Chromium of its own).
screenshots: test-deps
	$(PY) docs/screenshots/take.py

bench: test-deps
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .jax_cache
