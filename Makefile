# ragflow-serverless — the two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 9380
DATA_DIR ?= ./var
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
# checkov in a venv of its own: its pins (boto3==1.35.49, packaging<24, networkx<2.7) would downgrade ours
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
export CHECKOV := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

.PHONY: serve test browser lint typecheck synth aws-checks package deploy bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	# [tool.ragflow] no-deps of pyproject.toml (rapidocr-onnxruntime: see there why)
	$(PY) -c 'import subprocess, sys, tomllib; subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", *tomllib.load(open("pyproject.toml", "rb"))["tool"]["ragflow"]["no-deps"]], check=True)'
	touch $(STAMP)

$(DEVSTAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[dev]'
	# ragflow-sdk 0.27.3 declares Python >= 3.13 but is pure Python and runs on 3.11
	$(PY) -m pip install -q --ignore-requires-python --no-deps ragflow-sdk==0.27.3
	touch $(DEVSTAMP)

# [tool.ragflow] checkov of pyproject.toml
$(CHECKOV_STAMP): pyproject.toml
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/python -c 'import subprocess, sys, tomllib; subprocess.run([sys.executable, "-m", "pip", "install", "-q", *tomllib.load(open("pyproject.toml", "rb"))["tool"]["ragflow"]["checkov"]], check=True)'
	touch $(CHECKOV_STAMP)

serve: $(STAMP)
	PORT=$(PORT) DATA_DIR=$(DATA_DIR) $(VENV)/bin/ragflow-serverless serve

# the three set-ups wait mostly on downloads: side by side they take about the longest one's time
test:
	@$(MAKE) --no-print-directory -j3 $(DEVSTAMP) $(CHECKOV_STAMP) browser
	$(VENV)/bin/ruff check shared functions tests infra bench examples layers
	$(VENV)/bin/lint-imports
	# mypy runs beside pytest (a fresh mypy takes minutes, mostly reading aws-cdk-lib's stubs); its report follows
	# pytest's, and either failing fails the target
	@log=$$(mktemp); $(VENV)/bin/mypy > $$log 2>&1 & pid=$$!; \
	$(PY) -m pytest; tests=$$?; wait $$pid; types=$$?; echo "mypy:"; cat $$log; rm -f $$log; \
	test $$tests -eq 0 && test $$types -eq 0

browser:
	@tests/console/install_chromium.sh

lint: $(DEVSTAMP)
	$(VENV)/bin/ruff check shared functions tests infra bench examples layers
	$(VENV)/bin/lint-imports

typecheck: $(DEVSTAMP)
	$(VENV)/bin/mypy

synth: $(DEVSTAMP)
	$(PY) infra/app.py
	@echo "template: cdk.out/RagflowServerless.template.json"

# cdk-nag (AwsSolutions) and checkov on the synthesized stack (docs/aws_checks.md), then checkov's own report on cdk.out
aws-checks: $(DEVSTAMP) $(CHECKOV_STAMP)
	$(PY) -m pytest tests/infra/test_aws_checks.py
	RAGFLOW_BUNDLES=placeholder $(PY) infra/app.py
	$(CHECKOV) --skip-download --framework cloudformation --compact --quiet --file cdk.out/RagflowServerless.template.json

# the Lambda bundles (arm64 wheels, no Docker) and each function's size + cold import time
package: $(DEVSTAMP)
	$(PY) layers/build.py
	$(PY) bench/package_size.py --runs 1

# needs AWS credentials; bootstrap is a no-op once the account/region has it; never deploys placeholder assets
deploy: $(DEVSTAMP)
	$(PY) layers/build.py
	npx --yes aws-cdk@2.1148.1 bootstrap --app "$(PY) infra/app.py"
	RAGFLOW_BUNDLES=require npx --yes aws-cdk@2.1148.1 deploy --app "$(PY) infra/app.py" --require-approval never --outputs-file cdk.out/outputs.json

bench: $(STAMP)
	$(PY) bench/ingest.py

clean:
	rm -rf cdk.out layers/build
