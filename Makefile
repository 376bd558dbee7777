# superalign. Every Go line runs with GOEXPERIMENT=simd (the pure-Go GoMLX
# backend is 5–15× slower without it) and builds the CPU binary
# without C (CGO_ENABLED=0 -tags noxla).
export GOEXPERIMENT := simd
export CGO_ENABLED := 0
GO      ?= go
TAGS    := noxla
BIN     := bin/w2s
OUT     ?= runs/demo

.PHONY: build build-xla demo test vet bench methods-doc clean

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/w2s

# The GPU binary: cgo and GoMLX's XLA backend (internal/backend/xla.go). Run it
# with GOMLX_NO_AUTO_INSTALL=1 GOMLX_BACKEND=xla:/abs/path/xla_cuda_plugin.so
# (the CUDA PJRT plugin JAX installs); without GOMLX_BACKEND it runs on the
# pure-Go backend like bin/w2s.
build-xla:
	CGO_ENABLED=1 $(GO) build -o bin/w2s-xla ./cmd/w2s

# The main job on the built-in defaults (examples/demo.yaml): sentiment,
# GloVe supervising USE-lite as a frozen probe and as a fine-tuned student
# (its top layer), naive and logconf, 5 seeds; one table. Fetches what it
# needs first.
demo: build
	$(BIN) fetch sentiment glove use-lite
	$(BIN) sweep --config examples/demo.yaml --out $(OUT)

# Every test, on the real assets (fetched first so the test log shows the fetch).
test: build vet
	$(BIN) fetch sentiment spam-assassin glove
	$(GO) test -tags $(TAGS) -timeout 30m -count=1 ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...

# Speed against the reference implementations, same machine, same run: BENCH.md.
# Each script owns one BENCH.md section (heads, knn, uselite, vision, profile).
bench: build
	bash bench/run.sh
	bash bench/knn.sh
	bash bench/uselite.sh
	bash bench/vision.sh
	bash bench/profile.sh

# METHODS.md and method/catalogue.go (the same entries for godoc) are
# generated from the method registry.
methods-doc: build
	$(BIN) methods --markdown > METHODS.md
	$(BIN) methods --godoc > method/catalogue.go

clean:
	rm -rf bin
