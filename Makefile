# Tide developer targets. Every target runs on the project's own Node (node_modules/.bin first on PATH).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.DEFAULT_GOAL := help

help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

node_modules: package.json package-lock.json
	npm ci
	@touch node_modules

deps: node_modules ## Install npm packages and the Debian packages the test bed runs
	bash hack/system-deps.sh

tools: ## Build the pinned binaries (Kubernetes, etcd, kwok, helm, kustomize, sops) into the tool cache
	bash hack/tools.sh

build: node_modules ## Compile TypeScript to dist/
	npm run build

lint: node_modules ## Lint and check formatting (biome) and type-check
	npm run lint
	npm run typecheck

fmt: node_modules ## Format the sources
	npm run format

test: node_modules tools ## Run every test (unit and integration) on a fresh test bed
	npm test

test-unit: node_modules ## Run the unit tests (no cluster)
	npm run test:unit

test-integration: node_modules tools ## Run the integration tests on a fresh test bed
	npm run test:integration

testbed-up: node_modules tools ## Start the local control plane in .testbed/ (idempotent); prints its kubeconfig
	node hack/testbed.ts up

testbed-down: node_modules ## Stop the local control plane and remove .testbed/
	node hack/testbed.ts down

run: node_modules tools ## Run Tide: on $$KUBECONFIG, or on the local control plane when it is unset
	node hack/run.ts

bench: node_modules tools ## Benchmark Tide (and Flux with FLUX_BIN_DIR) into docs/benchmarks/; settings: node hack/bench/main.ts --help
	node hack/bench/main.ts

chaos: node_modules ## Soak: random faults under a mixed workload (CHAOS_DURATION=30m, CHAOS_SEED); summary in docs/benchmarks/chaos.json; node hack/chaos/main.ts --help
	node hack/chaos/main.ts

bench-flux: ## Build Flux's controllers for the benchmark from the Go module proxy; prints the FLUX_BIN_DIR to use
	bash hack/bench/build-flux.sh

manifests: node_modules ## Regenerate crds/ from the schemas in controllers/api
	node hack/gen-crds.ts

verify: node_modules ## Lint, type-check and fail when generated files (crds/) are stale
	npm run lint
	npm run typecheck
	node hack/gen-crds.ts --check

.PHONY: help deps tools build lint fmt manifests test test-unit test-integration testbed-up testbed-down run verify bench bench-flux chaos
