# sharegpt: build, test, benchmark, lint.
GO          ?= go
BIN         ?= bin/sharegpt
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
SAMPLE      ?= testdata/sharegpt/sharegpt_v3_sample_1000.json
OUT         ?= out/sample

.PHONY: build sample test bench lint fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/sharegpt

# The main job on the bundled sample data: read and check the real ShareGPT
# sample, write it as JSONL, Python-style JSON and zstd JSONL, and report.
sample: build
	mkdir -p $(OUT)
	$(BIN) validate $(SAMPLE)
	$(BIN) convert -i $(SAMPLE) -o $(OUT)/sample.jsonl --report $(OUT)/convert.report.json
	$(BIN) convert -i $(OUT)/sample.jsonl -o $(OUT)/sample.json.zst --quiet
	$(BIN) stats $(OUT)/sample.json.zst | tee $(OUT)/stats.txt

test:
	$(GO) test ./...

bench: build
	scripts/bench.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Fuzz each parser for a while (FUZZTIME=1m make fuzz).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./pipeline -run XXX -fuzz FuzzDecodeRecord -fuzztime $(FUZZTIME)
	$(GO) test ./pipeline -run XXX -fuzz FuzzScanners -fuzztime $(FUZZTIME)

clean:
	rm -rf bin out .bench
