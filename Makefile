# Invite Desk — the project's habits as targets. `make run` and `make test` set up what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: setup run check fmt clippy unit test keychain-test contract-test netlify-function-test e2e bundle bundle-check bench bench-app bench-window clean

setup:
	@scripts/install-deps.sh

## Run the app (debug build).
run: setup
	$(CARGO) run --bin invite-desk

## Fast checks: formatting, lints, unit and integration tests (no window, no keychain).
check: fmt clippy unit

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS $(CARGO) test --workspace

## Everything: what CI runs.
test: setup check keychain-test contract-test netlify-function-test e2e bundle bundle-check
	@echo "All tests passed."

keychain-test:
	scripts/keychain-test.sh

contract-test:
	scripts/contract-test.sh

netlify-function-test:
	scripts/netlify-function-test.sh

e2e:
	scripts/e2e.sh

## Installers: .deb and .rpm (AppImage needs a download this machine cannot make).
bundle: setup
	npx --no-install tauri build --bundles deb,rpm

bundle-check:
	scripts/bundle-check.sh

## Benchmarks (criterion): paste parsing, list filtering, outbox throughput.
bench:
	$(CARGO) bench -p invite-core

## Start-up: first paint and idle memory of the release build against a minimal Tauri 2 app.
bench-app: setup
	scripts/bench-app.sh

## A 2,000-address links batch through the window (lag, memory) and the same batch headless.
bench-window: setup
	scripts/bench-window.sh

clean:
	$(CARGO) clean
