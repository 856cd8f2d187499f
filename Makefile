# buktu: the two commands a person needs are `make run` and `make test`.
GO      ?= go
ARGS    ?=
export PATH := $(PATH):/usr/local/go/bin

.PHONY: setup build run test fuzz bench clean

# setup installs what builds, tests and benchmarks need (Debian packages, Go modules).
setup:
	@bash scripts/setup-debian.sh

build:
	$(GO) build -o bin/buktu ./cmd/buktu

# run starts a host on the default data directory; pass flags with ARGS="--data DIR".
run: setup build
	./bin/buktu serve $(ARGS)

# test runs the whole suite with the real peers (OpenSSH sftp/scp, rclone, lftp).
test: setup
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# fuzz runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 15s
fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

# bench runs the benchmarks side by side with the peer tools and prints ratios.
bench: setup build
	$(GO) test -run=NONE -bench=. -benchtime=1x -timeout 60m ./bench/

clean:
	rm -rf bin
