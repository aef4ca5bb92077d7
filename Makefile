# Xieshang — build, test, regenerate, benchmark. `make help` lists the targets.
SHELL := /bin/bash
SWIFT ?= swift

.PHONY: help setup build run test protos check-protos fuzz bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## Install system and Python prerequisites (Debian 12, root)
	bash scripts/setup.sh

build: setup ## Build everything (debug)
	$(SWIFT) build

run: setup ## Set up and run the system on its embedded default
	bash scripts/run.sh

test: setup ## Set up and run every test (what CI runs)
	bash scripts/test.sh

protos: ## Regenerate Sources/*/Generated from protos/
	bash scripts/gen-protos.sh

check-protos: ## Fail when generated code is stale
	bash scripts/check-protos.sh

fuzz: ## Run the libFuzzer target over the deframer and decoders
	bash scripts/fuzz.sh

bench: setup ## Run benchmarks and write BENCHMARKS.md
	bash scripts/bench.sh

clean: ## Remove build products
	rm -rf .build
