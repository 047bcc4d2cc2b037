# Invite Desk — the project's habits as targets. `make run` and `make test` set up what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# CI builds everything once from scratch: incremental data would only be written, never reused.
ifdef CI
export CARGO_INCREMENTAL ?= 0
endif

.PHONY: setup run check fmt clippy unit test keychain-test contract-test netlify-function-test e2e bundle bundle-check bench clean
.PHONY: e2e-release shipped-check

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

# One debug build for all of `make test` (scripts/dev-build.sh); `cargo test` then only runs.
unit:
	CARGO=$(CARGO) scripts/dev-build.sh
	env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS $(CARGO) test --workspace

## Everything: what CI runs.
# `e2e-release` belongs before `bundle` here once it has passed on this machine: both build the
# release profile with the same dependencies, and bundle then leaves the shipped binary in
# target/release.
test: setup check keychain-test contract-test netlify-function-test e2e bundle bundle-check shipped-check
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

## The shipped build is the tested build: e2e flows on a release-profile build (test-only
## automation switch), then the .deb's own binary must paint its first screen and log its start.
e2e-release: setup
	scripts/e2e-release.sh

shipped-check:
	scripts/shipped-check.sh

## Benchmarks (criterion): paste parsing, list filtering, outbox throughput.
bench:
	$(CARGO) bench -p invite-core

clean:
	$(CARGO) clean
