# pilot — the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
PKGS    ?= ./...
BIN     := bin/pilot
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build deps deps-web demo demo-run test vet bench fuzz clean

all: build

deps:
	@scripts/deps.sh

# What the demos need: Chromium only.
deps-web:
	@scripts/deps.sh chromium

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/pilot

# Shop episodes in headless Chromium with the scripted expert, in parallel,
# then the table: success rate with its 95% interval, reward, steps, speed.
DEMO_EPISODES ?= 20
demo: deps-web build
	$(BIN) eval --suite shop --split test --episodes $(DEMO_EPISODES) --workers 2

# One episode on the small mug shop, step by step.
demo-run: deps-web build
	$(BIN) run --serve evals/suites/demosuite --url /index.html \
		--task "Find the price of the blue mug and answer with it" \
		--answer '$$12.50' --policy replay --actions evals/suites/demosuite/solve.actions

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags gocv ./robot/camera/
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The camera's OpenCV code and tests need the gocv tag (and libopencv-dev,
# which deps installs); the first build compiles gocv's cgo (~45 s).
test: deps vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	$(GO) test -race -count=1 -timeout 10m -tags gocv ./robot/camera/...

# Speed targets: see docs/benchmarks.md.
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 200x ./env/web/
	$(GO) test -run '^$$' -bench . ./agent/
	$(GO) test -run '^$$' -bench 'Search|ResultsPage' -benchtime 2000x ./env/shop/
	$(GO) test -run '^$$' -bench 'Memory' -benchtime 1x ./env/shop/
	$(GO) test -run '^$$' -bench '^BenchmarkCycle$$' -benchtime 3000x ./robot/sim/
	$(GO) test -run '^$$' -bench 'FastStep' -benchtime 20000x ./env/robotenv/
	$(GO) test -run '^$$' -bench . ./policy/nn/ ./env/classic/
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./env/web/lite/
	$(GO) test -run '^$$' -bench 'ShopLite|Add' -benchtime 1000x ./evals/runstore/
	$(GO) test -run '^$$' -bench 'Report1000' -benchtime 3x ./evals/htmlreport/
	$(GO) test -run '^$$' -bench 'Open1000' -benchtime 5x ./evals/viewer/
	$(GO) test -run '^$$' -bench 'MiniWoB' -benchtime 100x ./evals/suites/

# Fuzz every parser of outside input for FUZZTIME each (default 60s).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseAction -fuzztime $(FUZZTIME) ./env/
	$(GO) test -run '^$$' -fuzz FuzzLoadActions -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz FuzzShopExpert -fuzztime $(FUZZTIME) ./policy/expert/
	$(GO) test -run '^$$' -fuzz FuzzParseQuery -fuzztime $(FUZZTIME) ./env/shop/
	$(GO) test -run '^$$' -fuzz FuzzCheckoutForm -fuzztime $(FUZZTIME) ./env/shop/
	$(GO) test -run '^$$' -fuzz FuzzScanFrame -fuzztime $(FUZZTIME) ./robot/feetech/
	$(GO) test -run '^$$' -fuzz FuzzFrameRoundTrip -fuzztime $(FUZZTIME) ./robot/feetech/
	$(GO) test -run '^$$' -fuzz FuzzBusReplies -fuzztime $(FUZZTIME) ./robot/feetech/
	$(GO) test -run '^$$' -fuzz FuzzHandle -fuzztime $(FUZZTIME) ./robot/sim/
	$(GO) test -run '^$$' -fuzz FuzzDecodeEncoders -fuzztime $(FUZZTIME) ./robot/sim/
	$(GO) test -run '^$$' -fuzz FuzzArrange -fuzztime $(FUZZTIME) ./robot/sim/
	$(GO) test -run '^$$' -fuzz FuzzWorld -fuzztime $(FUZZTIME) ./robot/sim/
	$(GO) test -run '^$$' -fuzz FuzzIK -fuzztime $(FUZZTIME) ./robot/kin/
	$(GO) test -run '^$$' -fuzz FuzzReadCalibration -fuzztime $(FUZZTIME) ./robot/arm/
	$(GO) test -run '^$$' -fuzz FuzzParseSource -fuzztime $(FUZZTIME) ./robot/camera/
	$(GO) test -run '^$$' -fuzz FuzzAdapterHint -fuzztime $(FUZZTIME) ./robot/serial/
	$(GO) test -run '^$$' -fuzz FuzzParseIDsAndBauds -fuzztime $(FUZZTIME) ./cmd/pilot/
	$(GO) test -run '^$$' -fuzz FuzzParseAnswer -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz FuzzParseVerdict -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz FuzzReadPrices -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz FuzzDecodeResponse -fuzztime $(FUZZTIME) ./policy/openai/
	$(GO) test -run '^$$' -fuzz FuzzRetryAfterHeader -fuzztime $(FUZZTIME) ./policy/openai/
	$(GO) test -run '^$$' -fuzz FuzzDecodeRequest -fuzztime $(FUZZTIME) ./policy/openai/openaitest/
	$(GO) test -run '^$$' -fuzz FuzzOllamaResponse -fuzztime $(FUZZTIME) ./policy/langchain/
	$(GO) test -run '^$$' -fuzz FuzzTree -fuzztime $(FUZZTIME) ./env/web/lite/
	$(GO) test -run '^$$' -fuzz FuzzRead -fuzztime $(FUZZTIME) ./policy/shopnn/
	$(GO) test -run '^$$' -fuzz FuzzAnthropicResponse -fuzztime $(FUZZTIME) ./policy/langchain/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./policy/models/
	$(GO) test -run '^$$' -fuzz FuzzReadMLP -fuzztime $(FUZZTIME) ./policy/nn/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./evals/tasks/
	$(GO) test -run '^$$' -fuzz FuzzStepRequest -fuzztime $(FUZZTIME) ./evals/serve/
	$(GO) test -run '^$$' -fuzz FuzzReadBundle -fuzztime $(FUZZTIME) ./policy/nn/
	$(GO) test -run '^$$' -fuzz FuzzCacheFile -fuzztime $(FUZZTIME) ./policy/cache/
	$(GO) test -run '^$$' -fuzz FuzzEstimateTokens -fuzztime $(FUZZTIME) ./env/
	$(GO) test -run '^$$' -fuzz FuzzParseGateRule -fuzztime $(FUZZTIME) ./env/web/
	$(GO) test -run '^$$' -fuzz FuzzParseConfidence -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz FuzzParseSecrets -fuzztime $(FUZZTIME) ./env/
	$(GO) test -run '^$$' -fuzz FuzzShopHeuristic -fuzztime $(FUZZTIME) ./evals/suites/
	$(GO) test -run '^$$' -fuzz FuzzStep -fuzztime $(FUZZTIME) ./env/classic/
	$(GO) test -run '^$$' -fuzz FuzzSinCos -fuzztime $(FUZZTIME) ./env/classic/

clean:
	rm -rf bin
