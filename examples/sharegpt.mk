# Rebuild a training set from a raw ShareGPT dump, one file target per stage:
#
#   raw HTML -> clean (English) -> dedup (near duplicates) -> split (2048 tokens)
#            -> Parquet shards (Hub layout) + save_to_disk folder + stats
#
#   make -f examples/sharegpt.mk RAW=sg_90k.json OUT=out/sg90k -j2
#
# Each stage writes its output, a report and a rejects file beside it, all
# atomically (a temporary file renamed at the end), so an interrupted run
# (Ctrl-C, kill) leaves no target that make would take as done. A stage's
# flags are kept in OUT/STAGE.flags, rewritten only when they change: edit
# CLEAN_FLAGS and only clean and the stages after it run again. Outputs are
# deterministic: two runs give the same bytes, whatever -j or --workers.
# Without RAW, the bundled sample is rendered into a raw dump first.

SHAREGPT    ?= bin/sharegpt
OUT         ?= out/dataset
RAW         ?= $(OUT)/raw.json
SAMPLE      ?= testdata/sharegpt/sharegpt_v3_sample_1000.json
CLEAN_FLAGS ?= --keep-lang en --languages common
DEDUP_FLAGS ?= --threshold 0.8
SPLIT_FLAGS ?= --max-length 2048
EXPORT_FLAGS ?= --split-ratio 0.99 --seed 0

.DELETE_ON_ERROR:
.PHONY: all FORCE
all: $(OUT)/hub/README.md $(OUT)/disk/dataset_dict.json $(OUT)/stats.txt

$(OUT):
	mkdir -p $@

# The bundled sample as a raw dump: assistant turns in share-page HTML,
# every conversation distinct, with 3% exact re-shares (clean's
# value-duplication) and 5% re-shares with a small edit (dedup's near
# duplicates), as real dumps have them.
$(OUT)/raw.json: $(SAMPLE) | $(OUT)
	go run ./tools/gencorpus -html -mosaic -noise 0.1 -n 1000 -dup 0.03 -near 0.05 -from $(SAMPLE) -o $@

# STAGE.flags holds a stage's flags and changes only when they do.
$(OUT)/%.flags: FORCE | $(OUT)
	@printf '%s\n' '$(FLAGS_$*)' | cmp -s - $@ || printf '%s\n' '$(FLAGS_$*)' > $@
FLAGS_clean  = $(CLEAN_FLAGS)
FLAGS_dedup  = $(DEDUP_FLAGS)
FLAGS_split  = $(SPLIT_FLAGS)
FLAGS_export = $(EXPORT_FLAGS)
FLAGS_import = $(IMPORT_FLAGS)

$(OUT)/clean.jsonl: $(RAW) $(OUT)/clean.flags | $(SHAREGPT)
	$(SHAREGPT) clean -q $(CLEAN_FLAGS) -i $(RAW) -o $@ \
	  --rejects $(OUT)/clean.rejects.jsonl --report $(OUT)/clean.report.json

$(OUT)/dedup.jsonl: $(OUT)/clean.jsonl $(OUT)/dedup.flags | $(SHAREGPT)
	$(SHAREGPT) dedup -q $(DEDUP_FLAGS) -i $< -o $@ --clusters $(OUT)/dedup.clusters.jsonl \
	  --rejects $(OUT)/dedup.rejects.jsonl --report $(OUT)/dedup.report.json

$(OUT)/split.jsonl: $(OUT)/dedup.jsonl $(OUT)/split.flags | $(SHAREGPT)
	$(SHAREGPT) split -q $(SPLIT_FLAGS) -i $< -o $@ \
	  --rejects $(OUT)/split.rejects.jsonl --report $(OUT)/split.report.json

# Parquet shards under hub/data/ with a dataset card, ready to upload.
$(OUT)/hub/README.md: $(OUT)/split.jsonl $(OUT)/export.flags | $(SHAREGPT)
	$(SHAREGPT) export -q $(EXPORT_FLAGS) -i $< --hf-hub $(OUT)/hub --report $(OUT)/hub.report.json

# The save_to_disk folder datasets.load_from_disk opens.
$(OUT)/disk/dataset_dict.json: $(OUT)/split.jsonl $(OUT)/export.flags | $(SHAREGPT)
	$(SHAREGPT) export -q $(EXPORT_FLAGS) -i $< --hf-disk $(OUT)/disk --report $(OUT)/disk.report.json

$(OUT)/stats.txt: $(OUT)/split.jsonl | $(SHAREGPT)
	$(SHAREGPT) stats $< > $@.tmp && mv $@.tmp $@

$(SHAREGPT):
	CGO_ENABLED=0 go build -trimpath -o $@ ./cmd/sharegpt

# A user's own ChatGPT export as the raw input: import (every branch, tool
# turns dropped) -> clean -> split -> tokenize, on the bundled real export.
# The sample holds real people's chats: it exercises the chain, it is not
# training data.
EXPORT       ?= testdata/imports/chatgpt/pkuppens_real_export_2023-06_conversations.json
IMPORT_FLAGS ?= --from chatgpt --branches all --tools drop
all: $(OUT)/import/tokens.parquet

$(OUT)/import:
	mkdir -p $@

$(OUT)/import/import.jsonl: $(EXPORT) $(OUT)/import.flags | $(OUT)/import $(SHAREGPT)
	$(SHAREGPT) import -q $(IMPORT_FLAGS) -i $(EXPORT) -o $@ \
	  --rejects $(OUT)/import/import.rejects.jsonl --report $(OUT)/import/import.report.json

$(OUT)/import/clean.jsonl: $(OUT)/import/import.jsonl | $(SHAREGPT)
	$(SHAREGPT) clean -q -i $< -o $@ \
	  --rejects $(OUT)/import/clean.rejects.jsonl --report $(OUT)/import/clean.report.json

$(OUT)/import/split.jsonl: $(OUT)/import/clean.jsonl $(OUT)/split.flags | $(SHAREGPT)
	$(SHAREGPT) split -q $(SPLIT_FLAGS) -i $< -o $@ \
	  --rejects $(OUT)/import/split.rejects.jsonl --report $(OUT)/import/split.report.json

$(OUT)/import/tokens.parquet: $(OUT)/import/split.jsonl | $(SHAREGPT)
	$(SHAREGPT) tokenize -q -i $< -o $@ \
	  --rejects $(OUT)/import/tokenize.rejects.jsonl --report $(OUT)/import/tokenize.report.json
