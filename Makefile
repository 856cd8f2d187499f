# buktu: the two commands a person needs are `make run` and `make test`.
GO      ?= go
ARGS    ?=
# GOTAGS selects optional parts: turbojpeg compresses Tight's JPEG with libjpeg-turbo (cgo,
# libturbojpeg0-dev) instead of image/jpeg, 10x faster. GOTAGS= builds pure Go.
GOTAGS  ?= turbojpeg
export PATH := $(PATH):/usr/local/go/bin

.PHONY: setup web build run test fuzz bench soak clean

# setup installs what builds, tests and benchmarks need (Debian packages, Go modules).
setup:
	@bash scripts/setup-debian.sh

# web builds the browser console (noVNC and our pages) into web/dist, which the binary embeds.
web:
	@bash scripts/build-web.sh

build: web
	$(GO) build -tags '$(GOTAGS)' -o bin/buktu ./cmd/buktu

# run starts a host on the default data directory; pass flags with ARGS="--data DIR".
run: setup build
	./bin/buktu serve $(ARGS)

# test runs the whole suite with the real peers (OpenSSH sftp/scp, rclone, lftp).
test: setup
	$(GO) vet -tags '$(GOTAGS)' ./...
	$(GO) test -tags '$(GOTAGS)' -count=1 -timeout 20m ./...

# fuzz runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 15s
fuzz:
	@GOTAGS='$(GOTAGS)' bash scripts/fuzz.sh $(FUZZTIME)

# bench runs the benchmarks side by side with the peer tools and prints ratios.
bench: setup build
	$(GO) test -tags '$(GOTAGS)' -run=NONE -bench='BenchmarkFiles|BenchmarkScreen$$' -benchtime=1x -timeout 60m ./bench/
	$(GO) test -tags '$(GOTAGS)' -run=NONE -bench=BenchmarkConsoleScreen -benchtime=1x ./internal/host/

# soak runs the screen host with 50 viewers of the video for 10 minutes (BUKTU_BENCH_SOAK=2m
# for less) and checks that its memory does not grow: bench/results/screen-soak.md.
soak: setup build
	$(GO) test -tags '$(GOTAGS)' -run=NONE -bench='BenchmarkScreenSoak$$' -benchtime=1x -timeout 40m ./bench/

clean:
	rm -rf bin
