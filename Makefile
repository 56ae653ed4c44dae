# fluxgate build and test entry points. The project is on Go 1.27: the
# installed go command fetches that toolchain from the module proxy.
export GOTOOLCHAIN := go1.27.3

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build test tools vet fmt bench render-example clean

all: vet test build

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/fluxgate ./cmd/fluxgate

test: tools
	go vet ./...
	go test ./... -count=1

# Programs the tests start: a Gitea server for internal/forge, built once
# from its Go module into ~/.cache/fluxgate-tools (FLUXGATE_TOOLS_DIR moves
# it); does nothing when already built.
tools:
	bash internal/testenv/gitea-build.sh

vet:
	go vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench:
	bash bench/render.sh

# Renders the bundled example fleet (the README's first command).
render-example:
	go run ./cmd/fluxgate render testdata/fleets/fleet-infra --path clusters/production

clean:
	rm -rf bin
