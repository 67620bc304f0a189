# Outpost — the door to the project. Two commands matter to a newcomer:
#   make run    installs what is missing, builds, starts a local sync server and the app
#   make test   installs what is missing and runs every test (Go, frontend, end-to-end)
# Recipes stay short; anything longer lives in .ci/ scripts.

SHELL   := /bin/bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
GO      ?= go
export GOFLAGS ?= -mod=readonly

.PHONY: all deps run test test-go test-fuzz test-frontend test-e2e test-ui screenshots lint build build-app build-server bench soak package package-test clean

all: build

## deps: install Debian packages, Go modules and npm packages the build needs
deps:
	@bash .ci/install-deps
	@bash .ci/go-tools
	@$(GO) mod download
	@bash .ci/npm-deps

## run: build everything, start a local sync server on embedded SQLite and the desktop app
run: deps build
	@VERSION=$(VERSION) bash .ci/run-app

## test: every test — lint, Go (with a real Secret Service), fuzz smoke, frontend, end-to-end
test: deps lint test-go test-fuzz test-ui
	@echo "make test: all suites passed"

# staticcheck (pinned in .ci/go-tools) checks the linux build, with the soak
# tests' tag so backend/cmd/outpost-sim/soak_test.go is read too (no file is
# behind !soak); its default checks, no staticcheck.conf. Seconds when cached.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) vet ./...
	@bash .ci/go-tools
	@build/tools/staticcheck -tags soak ./...
	@cd frontend && npm run --silent lint

# Go tests run inside a private D-Bus session with an unlocked gnome-keyring
# (a real Secret Service), under Xvfb, beside a throwaway PostgreSQL cluster.
test-go:
	@bash .ci/postgres bash .ci/with-session $(GO) test -race -count=1 -timeout 20m ./...

test-fuzz:
	@bash .ci/fuzz

test-frontend:
	@bash .ci/frontend-test

# The UI suites of make test: the frontend's and the end-to-end suites side
# by side on one build (.ci/test-ui says why and what it measured).
test-ui: build
	@bash .ci/test-ui

# End-to-end suites write their screenshots and logs to build/test-artifacts/
# only: a test run leaves the tracked tree as it found it. All use the one
# build above. The real window (smoke, then the shift) mostly waits on WebKit
# and the keyboard, so it runs beside the browser suite, which keeps the cores
# busy; each in its own session (the second starts a second later: xvfb-run -a
# picks its display by looking for a free lock file). A suite's output shows
# when it fails.
test-e2e: build
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	{ bash .ci/with-session bash .ci/smoke && bash .ci/with-session bash .ci/e2e && bash .ci/with-session bash .ci/e2e-hub; } >"$$log" 2>&1 & window=$$!; \
	sleep 1; status=0; \
	OUTPOST_SERVER_BIN=build/bin/outpost-server bash .ci/with-session bash .ci/e2e-browser || status=$$?; \
	if ! wait $$window; then cat "$$log" >&2; echo "test-e2e: the real-window suites (.ci/smoke, .ci/e2e, .ci/e2e-hub) failed" >&2; status=1; fi; \
	exit $$status

## screenshots: refresh docs/screenshots/ from the end-to-end suites (by hand, when a screen changed on purpose)
screenshots: deps build
	@bash .ci/screenshots

build: build-server build-app

build-server:
	@mkdir -p build/bin
	@$(GO) build -ldflags "$(LDFLAGS)" -o build/bin/outpost-server ./backend/cmd/outpost-server
	@$(GO) build -ldflags "$(LDFLAGS)" -o build/bin/outpost-recover ./backend/cmd/outpost-recover

build-app:
	@VERSION=$(VERSION) bash .ci/build-app

## bench: side-by-side benchmarks (minutes); results go to docs/benchmarks.md by hand
bench: deps
	@bash backend/store/bench/run.sh
	@echo "== dashboard queries, 1M encrypted records, 90 days (docs/store.md, Rollups)" >&2
	@GOFLAGS=-mod=mod go test ./backend/store/bench -run '^$$' -bench Dashboard -benchtime 5x -timeout 40m
	@bash backend/server/bench/run.sh
	@echo "== verified convergence: push with and without checksums (SQLite, PostgreSQL), checksum bytes, repair vs re-pull of a 1M-row device (docs/benchmarks.md)" >&2
	@PG_DURABLE=1 bash .ci/postgres bash backend/server/bench/checksums.sh
	@bash backend/cmd/outpost-sim/bench.sh
	@echo "== site hubs: on-site visibility through a hub (link up, cut); catch-up of OUTPOST_HUB_BENCH_WRITES (100k) site writes after a cut vs direct (docs/benchmarks.md, Site hubs)" >&2
	@OUTPOST_HUB_BENCH_WRITES=$${OUTPOST_HUB_BENCH_WRITES:-100000} GOFLAGS=-mod=mod go test ./backend/server/uplink -run '^$$' -bench Hub -benchtime 1x -timeout 30m

## soak: long runs that do not belong in make test: the nemesis campaign (SEEDS=a-b, MINUTES=60), long fuzzing
soak:
	@SEEDS=$(SEEDS) MINUTES=$(MINUTES) bash .ci/postgres bash backend/cmd/outpost-sim/soak.sh
	@FUZZTIME=2m bash .ci/fuzz

## package: signed (or clearly unsigned) installers into build/bin (see docs/deployment.md)
package:
	@bash build/package/install-deps.sh
	@VERSION=$(VERSION) bash build/package/package.sh

## package-test: builds the packages with a throwaway CA and GPG key and verifies them
package-test:
	@bash build/package/install-deps.sh
	@VERSION=$(VERSION) bash build/package/test.sh

clean:
	rm -rf build/bin build/test-artifacts frontend/dist/assets frontend/dist/index.html
