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
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OUT := test-output

export CARGO_TERM_COLOR := never

.PHONY: spec-coverage help setup test test-native test-browser test-types test-e2e demo pkg fuzz clean bench

help:
	@sed -n '2,8p' Makefile | sed 's/^# \{0,1\}//'

setup:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@# Debian's chromium (never a downloaded browser; never Debian's binaryen).
	@if ! command -v chromium >/dev/null; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
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

# The built package's public JS API in Chromium against the sandbox (tests/browser).
test-browser: pkg
	scripts/browser-tests.sh

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
