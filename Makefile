# WatchTower auth plane. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS      := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
MODULES    := proto platform services/identity services/session services/ingestion services/authz gateway cli deploy
PKGS       := $(addsuffix /...,$(addprefix ./,$(MODULES)))
BINARIES   := gateway identity session ingestion authz wtctl wtsim wtbench

# Pinned code generators (installed with `go install` into .tools/bin).
BUF_VERSION              := v1.75.0
PROTOC_GEN_GO_VERSION    := v1.36.12
PROTOC_GEN_GO_GRPC_VER   := v1.6.2
GRPC_GATEWAY_VERSION     := v2.34.0

##@ Run

.PHONY: run
run: build ## Run the whole stack (Postgres, Redis, every service, gateway) and print the console URL and demo credentials
	@deploy/dev/run.sh

##@ Test

.PHONY: test
test: deps-up proto-check vet ## Run every test against real Postgres and Redis (starts them when needed)
	go test -count=1 -timeout 8m $(PKGS)

.PHONY: test-short
test-short: ## Unit tests only (no Postgres, Redis or binaries)
	go test -short -count=1 $(PKGS)

.PHONY: bench
bench: build deps-up ## Benchmarks: Go benchmarks and the loopback load driver against same-run baselines
	@deploy/dev/bench.sh

.PHONY: deps-up
deps-up: ## Make sure Postgres and Redis are reachable (start or install them when not)
	@deploy/dev/deps.sh

##@ Build

.PHONY: build
build: ## Build every binary into bin/
	@mkdir -p bin
	go build -o bin/ ./gateway/cmd/gateway ./services/identity/cmd/identity ./services/session/cmd/session \
		./services/ingestion/cmd/ingestion ./services/authz/cmd/authz ./cli/cmd/wtctl ./cli/cmd/wtsim ./cli/cmd/wtbench

.PHONY: tools
tools: $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc $(TOOLS)/protoc-gen-grpc-gateway $(TOOLS)/protoc-gen-openapiv2 ## Install the pinned code generators into .tools/bin

$(TOOLS)/buf:
	GOBIN=$(TOOLS) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VER)
$(TOOLS)/protoc-gen-grpc-gateway:
	GOBIN=$(TOOLS) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
$(TOOLS)/protoc-gen-openapiv2:
	GOBIN=$(TOOLS) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)

.PHONY: proto
proto: tools ## Lint the protos and regenerate Go code and the OpenAPI document
	buf lint
	buf generate
	cp proto/gen/openapi/watchtower.swagger.json gateway/internal/openapi/watchtower.swagger.json

.PHONY: proto-check
proto-check: proto ## Fail when regeneration changes a committed file
	@if [ -n "$$(git status --porcelain -- proto gateway/internal/openapi)" ]; then \
		echo "generated code is out of date; run 'make proto' and commit:"; \
		git status --porcelain -- proto gateway/internal/openapi; exit 1; fi

##@ Code

.PHONY: fmt
fmt: ## gofmt every module
	gofmt -w $(MODULES)

.PHONY: vet
vet: ## go vet every module
	go vet $(PKGS)

.PHONY: lint
lint: vet ## buf lint, go vet and a gofmt check
	buf lint
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: tidy
tidy: ## go mod tidy in every module
	@for m in $(MODULES); do (cd $$m && go mod tidy) || exit 1; done

.PHONY: clean
clean: ## Remove built binaries and the dev run state
	rm -rf bin .run

.PHONY: clean-dev
clean-dev: ## Reset the dev state: drop the dev databases and Redis keys, remove .run (new demo credentials on the next run)
	@deploy/dev/clean.sh

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)
