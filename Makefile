# opsbot: `make run` starts a local IRC network and the bot; `make test` runs every test.
SHELL := /bin/bash
# The Go toolchain (fetched on a fresh machine) comes first on PATH for every recipe, gofmt included.
export PATH := $(shell bash scripts/ensure-go.sh):$(PATH)
GO := go

.PHONY: run test build vet fuzz bench bench-store clean screenshots

run:
	bash scripts/demo.sh

# All tests, race detector on, against a real IRC network, a real Alertmanager and a headless Chromium
# (scripts/install-deps.sh installs them from Debian's packages when missing).
test:
	bash scripts/install-deps.sh
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')) && test -z "$$out" || { echo "gofmt needed: $$out"; exit 1; }
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) fuzz FUZZTIME=30000x

# make test fuzzes by count: a -fuzztime duration can fail a clean run with "context deadline exceeded" when
# the workers are slow to stop (golang/go#75804, fixed in Go 1.27; seen here on a busy 2-core VM).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./commands -run '^$$' -fuzz '^FuzzTokenize$$' -fuzztime $(FUZZTIME)
	$(GO) test ./commands/chat -run '^$$' -fuzz '^FuzzSanitize$$' -fuzztime $(FUZZTIME)

build:
	$(GO) build -o opsbot ./cmd/opsbot

# One table from one run: the floor, the bot's read/write round trips, store commits, and the same reads
# measured by python3 clients in processes of their own; the alerts webhook; then store benchmarks; then every
# web page rendered over five years of history (p50/p99, target p99 under 50 ms); then the store table
# (bench-store) at SIZES years of history.
bench:
	bash scripts/install-deps.sh
	bash scripts/install-python.sh
	OPSBOT_BENCH=1 $(GO) test ./bot -run '^TestBench' -count=1 -v -timeout 20m | grep -v '^=== RUN'
	$(GO) test -run '^$$' -bench . -benchmem ./store/...
	OPSBOT_BENCH=1 $(GO) test ./commands/web -run '^TestBenchPages$$' -count=1 -v -timeout 30m | grep -v '^=== RUN'
	$(MAKE) bench-store SIZES=$(SIZES)

# Every chat command and HTTP read, file size, backup, cold and warm start and resident memory, on stores with
# SIZES years of a busy team's history (default 1; `make bench SIZES=1,5,10` for the issue's table). Seeded
# stores are cached in BENCH_CACHE: seeding 10 years takes about 12 minutes once (on /dev/shm when there is
# one). Upgrade numbers appear for sizes whose store seeded by an older build is in the cache.
SIZES ?= 1
BENCH_CACHE ?= /var/tmp/opsbot-bench
bench-store:
	OPSBOT_BENCH_SIZES=$(SIZES) OPSBOT_BENCH_CACHE=$(BENCH_CACHE) $(GO) test ./bot -run '^TestStoreBench(Table|Upgrade)$$' \
		-count=1 -v -timeout 3h | grep -v -e '^=== RUN' -e '^    bench_store_test.go:[0-9]*: seeding'

# The web pages' screenshots in docs/screenshots (the README shows some): the browser test over the demo's
# history, logged in with the link a real IRC client got from !web.
screenshots:
	bash scripts/install-deps.sh
	set -o pipefail; OPSBOT_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test ./bot -run '^TestE2EWebPages$$' -count=1 -v -timeout 5m | grep -v -e '^=== RUN' -e 'level='

clean:
	rm -rf opsbot .demo

# Crash safety (the binary SIGKILLed 20+ times under write traffic), hostile input (10,000 lines at the bot)
# and a short run of the dispatcher fuzzer; verbose, so each prints its numbers. Both tests also run in `test`.
.PHONY: robustness
robustness:
	bash scripts/install-deps.sh
	$(GO) test -race -count=1 -v -run '^TestCrashSafety$$' ./cmd/opsbot
	$(GO) test -race -count=1 -v -run '^TestHostileInput$$' ./bot
	$(GO) test ./commands -run '^$$' -fuzz '^FuzzDispatch$$' -fuzztime $(FUZZTIME)
