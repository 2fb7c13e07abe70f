# Costwatch — the commands a newcomer needs.
#   make run    build and start the whole platform with demo data on http://127.0.0.1:8080
#   make test   everything CI checks: format, lints, unit, property, contract and end-to-end tests
#   make bench  ingest throughput and push latency in embedded mode (release build)

CARGO ?= cargo
NPM ?= npm
# apt-get needs root; elsewhere use sudo when there is one.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
HTTP ?= 127.0.0.1:8080
DATA_DIR ?= ./data

.PHONY: test-chaos bench-distributed run build test lint fmt fmt-check clippy unit bench eval dev-stack dev-stack-stop run-distributed toolchain web-deps web-build web-test browser adapters bench-web helm-check

toolchain:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

build: toolchain
	$(CARGO) build --release -p costwatch

run: build web-build
	./target/release/costwatch up --demo --http $(HTTP) --data-dir $(DATA_DIR)

fmt:
	$(CARGO) fmt --all

fmt-check: toolchain
	$(CARGO) fmt --all --check

clippy: toolchain
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint: fmt-check clippy helm-check

# The Helm chart: lint, render with default and all-features values, schema checks. Installs
# helm with `go install` into ~/.local/bin the first time (a few minutes, then cached).
helm-check:
	helm/check.sh

unit: toolchain
	$(CARGO) test --workspace --no-fail-fast

# The dashboard (web/): npm packages from the lock file, then Vite's build into web/dist.
web-deps:
	cd web && $(NPM) ci --no-audit --no-fund

web-build: web-deps
	cd web && $(NPM) run build

# Debian's Chromium for the end-to-end test (playwright-core drives it; no browser download).
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

web-test: web-build browser
	cd web && $(NPM) run lint && $(NPM) test
	$(CARGO) build -p costwatch
	cd web && COSTWATCH_BIN="$(CURDIR)/target/debug/costwatch" CHROMIUM_PATH="$$(command -v chromium)" $(NPM) run e2e

# Adapter contract suites against the real servers: Kafka (usage log) and Cassandra (CQL store,
# standing in for ScyllaDB), started here once, stopped after, unless they were already running.
# `--workspace --lib` keeps the feature set of `make unit`, so nothing is rebuilt; the filters
# pick the contract and crash-recovery suites.
adapters: toolchain
	deploy/dev/stack.sh start
	export COSTWATCH_KAFKA_BROKERS=127.0.0.1:9092 COSTWATCH_CQL_NODES=127.0.0.1:9042; \
	  $(CARGO) test --workspace --lib -- --include-ignored \
	    usage_log_contract cost_store_contract cost_updates_contract alert_store_contract fx_rate_store_contract annotation_store_contract alerts::tests anomalies::tests trace_context dead_letter_topic crash_recovery \
	  && $(CARGO) test --workspace --test distributed_chaos --test distributed_alerts --test distributed_anomalies --test distributed_security -- --include-ignored --nocapture; \
	  rc=$$?; deploy/dev/stack.sh stop; exit $$rc

# The long distributed crash test: 1M events, 100 tenants, 20 aggregator SIGKILLs and one Kafka
# broker restart, in release mode. Not part of `make test` (takes minutes).
test-chaos: toolchain
	deploy/dev/stack.sh start
	export COSTWATCH_KAFKA_BROKERS=127.0.0.1:9092 COSTWATCH_CQL_NODES=127.0.0.1:9042 \
	  COSTWATCH_CHAOS_EVENTS=$${COSTWATCH_CHAOS_EVENTS:-1000000} COSTWATCH_CHAOS_KILLS=$${COSTWATCH_CHAOS_KILLS:-20} \
	  COSTWATCH_CHAOS_BROKER_RESTART=1; \
	  $(CARGO) test --release -p costwatch --test distributed_chaos -- --include-ignored --nocapture; \
	  rc=$$?; deploy/dev/stack.sh stop; exit $$rc

test: lint unit adapters web-test

bench: toolchain
	$(CARGO) bench -p costwatch-integration-tests --bench ingest_to_push
	$(CARGO) bench -p costwatch-billing-import --bench import_formats

# Distributed mode on the dev stack (release services): end-to-end throughput next to Kafka's own
# ProducerPerformance, and ingest -> push latency at fixed offered rates (BENCH_RATES).
bench-distributed: toolchain
	deploy/dev/stack.sh start
	$(CARGO) bench -p costwatch --bench distributed; rc=$$?; deploy/dev/stack.sh stop; exit $$rc

# The dashboard: first contentful paint in chromium against a real `costwatch up` (debug build,
# like the end-to-end test) and the initial JS bundle (gzip) against all JS. Numbers, not pass/fail.
bench-web: web-build browser
	$(CARGO) build -p costwatch
	cd web && COSTWATCH_BIN="$(CURDIR)/target/debug/costwatch" CHROMIUM_PATH="$$(command -v chromium)" $(NPM) run bench

# The analytics evaluation (not part of make test): the streaming detector over NAB scored with
# the NAB rules, the forecasters over M4 Hourly (MASE, sMAPE, CPU time). Prints tables; the
# results and their reading are in docs/analytics.md. Data: ../shared/data/{nab,m4}.
eval: toolchain
	$(CARGO) run --release -p costwatch-analytics --bin costwatch-eval -- all

# Real Apache Kafka (KRaft) on 127.0.0.1:9092 and Apache Cassandra 5.0 (CQL, for ScyllaDB) on
# 127.0.0.1:9042, fetched from Maven Central as jars and run with Java 17. State in .dev/.
dev-stack:
	deploy/dev/stack.sh start

dev-stack-stop:
	deploy/dev/stack.sh stop

run-distributed: build web-build
	deploy/dev/run-distributed.sh

