# sharegpt: build, test, benchmark, lint.
GO          ?= go
BIN         ?= bin/sharegpt
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
OUT         ?= out/sample

.PHONY: build sample test race bench lint fuzz clean

# -s -w drop the symbol table and DWARF (17 MB of 185; stack traces keep
# their names); the commit is stamped for builds without Go's VCS stamp.
COMMIT ?= $(shell git describe --always --dirty --abbrev=12 2>/dev/null)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w -X github.com/sharegpt/sharegpt/cmd.commit=$(COMMIT)" -o $(BIN) ./cmd/sharegpt

# The main job on the bundled sample data: the sample rendered as a raw
# share-page dump, then clean (English) -> dedup -> split -> Parquet shards,
# save_to_disk folder and stats in out/sample, and a real ChatGPT export
# through import -> clean -> split -> tokenize (see examples/sharegpt.mk);
# it ends with what each stage kept and where the results are.
sample: build
	$(MAKE) -f examples/sharegpt.mk SHAREGPT=$(BIN) OUT=$(OUT)
	@echo; echo "Statistics of the training records ($(OUT)/stats.txt):"; cat $(OUT)/stats.txt
	@$(GO) run ./tools/reportsummary -dir $(OUT)/import -title "Your own chats (a real ChatGPT export)" -results=false import clean split tokenize
	@$(GO) run ./tools/reportsummary -dir $(OUT) -title "The ShareGPT chain" clean dedup split hub disk

# The tests, with a summary of what was skipped and why at the end. -short
# keeps the oracle sweeps to a slice (every limit, record and turn when
# SHAREGPT_FULL is set, as CI does): about 1.5 minutes on 2 cores.
test:
	$(GO) run ./tools/testsummary $(if $(SHAREGPT_FULL),,-short) ./...

# The race detector over the packages that run work concurrently (the
# ordered parallel runner, dedup's spill and shards, augment's request
# pool, the parallel writers); -short skips the long oracle sweeps.
race:
	$(GO) test -race -short ./pipeline ./dedup ./augment/... ./clean ./split ./validate ./internal/columnar ./internal/hfdataset

# Benchmarks: go test -bench, clean on 5,000 raw conversations, convert,
# validate and stats (scripts/bench.sh), then the whole chain at 1/4, 1/2
# and the full ShareGPT-scale corpus (scripts/bench-chain.sh, SIZE=1GB).
bench: build
	scripts/bench.sh
	scripts/bench-chain.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Fuzz every reader and parser for a while (FUZZTIME=1m make fuzz; CI runs
# FUZZTIME=10s): JSON and JSONL records and scanners, gzip and zstd,
# Parquet, Arrow file and stream, share-page HTML, tokenizer model files,
# the --select language, augment's placeholders and redaction.
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh \
		./pipeline:FuzzDecodeRecord \
		./pipeline:FuzzScanners \
		./pipeline:FuzzDecompress \
		./clean:FuzzIdempotent \
		./clean:FuzzMarkdown \
		./clean:FuzzEscape \
		./clean:FuzzContainsFoldASCII \
		./internal/tokenizer:FuzzParseModel \
		./internal/tokenizer:FuzzEncode \
		./internal/tokenizer:FuzzLong \
		./internal/tokenizer:FuzzSplitLlama \
		./augment:FuzzProtect \
		./augment:FuzzExcerptRedacts \
		./internal/selectexpr:FuzzParse \
		./internal/columnar:FuzzParquetReader \
		./internal/columnar:FuzzArrowFileReader \
		./internal/columnar:FuzzArrowStreamReader \
		./importer:FuzzExportReader \
		./importer:FuzzPageReader

clean:
	rm -rf bin out .bench
