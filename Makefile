# pilot — the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
PKGS    ?= ./...
BIN     := bin/pilot
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build deps demo test vet bench fuzz clean

all: build

deps:
	@scripts/deps.sh

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/pilot

# A short episode in headless Chromium on a page served from cmd/pilot/demosuite.
demo: deps build
	$(BIN) run --serve cmd/pilot/demosuite --url /index.html \
		--task "Find the price of the blue mug and answer with it" \
		--answer '$$12.50' --policy replay --actions cmd/pilot/demosuite/solve.actions

vet:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: deps vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# Speed targets: see docs/benchmarks.md.
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 200x ./env/web/
	$(GO) test -run '^$$' -bench . ./agent/

# Fuzz every parser of outside input for FUZZTIME each (default 60s).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseAction -fuzztime $(FUZZTIME) ./env/
	$(GO) test -run '^$$' -fuzz FuzzLoadActions -fuzztime $(FUZZTIME) ./policy/

clean:
	rm -rf bin
