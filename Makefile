# speechbrain-masksr: `make demo` and `make test` are the whole quick start.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export PYTHONHASHSEED := 0

.PHONY: install demo test unit doctest lint clean

install: $(STAMP)

$(STAMP): setup.py constraints.txt Makefile tools/fix_torchaudio.py
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# 1) CPU torch first, held by the constraints file for every later step
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	# 2) the package (editable) and its dependencies
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]" webrtcvad-wheels
	# 3) resemblyzer without its stale declared deps (typing, webrtcvad)
	$(BIN)/python -m pip install -q -c constraints.txt --no-deps resemblyzer
	# 4) torchaudio's CUDA-only C++ extension on a CPU-only torch
	$(BIN)/python tools/fix_torchaudio.py
	# 5) system tools used to make test/demo speech (optional)
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	     --no-install-recommends espeak-ng sox >/dev/null) || \
	    echo "note: espeak-ng/sox not installed; synthetic speech fallback is used"; }
	$(BIN)/python -c "import speechbrain, dac, torchaudio, speechbrain_masksr; print('environment ok')"
	@touch $(STAMP)

demo: install
	$(BIN)/python tools/demo.py

test: install
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q --doctest-modules speechbrain_masksr
	$(BIN)/python -m pytest -q --doctest-modules tools/mini_corpus.py
	# recipes import their sibling *_prepare.py: one folder per run
	for d in recipes/*/; do $(BIN)/python -m pytest -q --doctest-modules $$d || exit 1; done
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint -s hparams .yamllint.yaml

unit: install
	$(BIN)/python -m pytest -q tests/unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint -s hparams .yamllint.yaml

clean:
	rm -rf $(VENV) results demo .pytest_cache .ruff_cache
