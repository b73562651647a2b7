# One entry point for every job. Each target installs what it needs, idempotently, on a
# fresh Debian machine (as root, or with sudo).
#
#   make demo    the demo app against the local sandbox server (the README's main command)
#   make test    every test suite, ending with one summary line (what CI runs)
#   make pkg     the npm package in pkg/ and its tarball
#   make fuzz    the protocol parsers under cargo-fuzz (FUZZ_SECONDS each, default 60)
#   make bench   the package against fhirclient (size, launch-to-ready, steady state)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

WASM_TARGET := wasm32-unknown-unknown
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock, byte for byte.
WASM_BINDGEN_VERSION = $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/"/, "", $$3); print $$3}' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OUT := test-output

# The browser tests' page is served on a fixed origin, registered with the sandbox as a
# client, so token and FHIR requests pass the sandbox's per-client CORS check.
BROWSER_TEST_ADDRESS := 127.0.0.1:9402
BROWSER_TEST_SANDBOX_PORT := 9410
export CHROMEDRIVER := /usr/bin/chromedriver
export WASM_BINDGEN_TEST_WEBDRIVER_JSON := $(CURDIR)/tests/webdriver.json
export WASM_BINDGEN_TEST_TIMEOUT ?= 120
export WASM_BINDGEN_TEST_DRIVER_TIMEOUT ?= 30
export CARGO_TERM_COLOR := never

.PHONY: spec-coverage help setup test test-native test-browser test-types test-e2e demo pkg fuzz clean bench

help:
	@sed -n '2,8p' Makefile | sed 's/^# \{0,1\}//'

setup:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
	  cargo install wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)" --locked \
	    || cargo install wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)"; \
	fi
	@# Debian's chromium and its driver (never a downloaded browser; never Debian's binaryen).
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi
	@# JS dev tools: wasm-opt from npm's binaryen, playwright-core, typescript.
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund; \
	fi

test: setup
	@mkdir -p $(OUT)
	@status=0; \
	$(MAKE) --no-print-directory test-native 2>&1 | tee $(OUT)/native.log || status=1; \
	$(MAKE) --no-print-directory test-browser 2>&1 | tee $(OUT)/browser.log || status=1; \
	$(MAKE) --no-print-directory test-types 2>&1 | tee $(OUT)/types.log || status=1; \
	$(MAKE) --no-print-directory test-e2e 2>&1 | tee $(OUT)/e2e.log || status=1; \
	scripts/test-summary.sh $(OUT)/native.log $(OUT)/browser.log $(OUT)/types.log $(OUT)/e2e.log; \
	exit $$status

test-native:
	cargo test --workspace

test-browser:
	@if ls tests/browser_*.rs >/dev/null 2>&1; then \
	  scripts/with-sandbox.sh $(BROWSER_TEST_SANDBOX_PORT) \
	    --client smart-launch-test=http://$(BROWSER_TEST_ADDRESS)/callback -- \
	    env WASM_BINDGEN_TEST_ADDRESS=$(BROWSER_TEST_ADDRESS) \
	        SMART_SANDBOX_URL=http://127.0.0.1:$(BROWSER_TEST_SANDBOX_PORT) \
	    cargo test --target $(WASM_TARGET) $$(for f in tests/browser_*.rs; do printf -- '--test %s ' "$$(basename $$f .rs)"; done); \
	else echo "no browser tests yet"; fi

pkg: setup
	scripts/build-pkg.sh

# The packed tarball installed into a scratch project; tests/ts-consumer under tsc --strict.
test-types: pkg
	scripts/test-types.sh

# The demo app and the sandbox in Chromium, end to end (tests/e2e).
test-e2e: pkg
	scripts/e2e.sh

demo: pkg
	scripts/demo.sh

fuzz:
	scripts/fuzz.sh

# smart-launch against fhirclient: size, launch-to-ready, steady state (bench/README.md).
bench: pkg
	scripts/bench.sh

# Which tests cite each of the 80 checklist items of docs/smart-spec.md, and whether they
# passed in the last `make test` (reads test-output/*.log).
spec-coverage:
	python3 scripts/spec_coverage.py

clean:
	cargo clean
	rm -rf pkg $(OUT) node_modules
