# fluxgate build and test entry points. The project is on Go 1.27: the
# installed go command fetches that toolchain from the module proxy.
export GOTOOLCHAIN := go1.27.3

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: all build test tools controlplane vet fmt vulncheck bench fuzz render-example clean image release

all: vet test build

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/fluxgate ./cmd/fluxgate

test: tools
	go vet ./...
	go test ./... -count=1

# Programs the tests start: a Gitea server for the forge tests, built once
# from its Go module into ~/.cache/fluxgate-tools (FLUXGATE_TOOLS_DIR moves
# it); does nothing when already built.
tools:
	bash internal/testenv/gitea-build.sh

# The local control plane of the cluster tests (etcd, kube-apiserver,
# controller manager, scheduler, kwok), built from the module proxy into the
# same cache. Not part of `make test` yet: a cold build took over an hour on
# a loaded 2-core machine, beyond .ci/run's budget; without it the cluster
# tests skip and say why.
controlplane:
	bash internal/testenv/controlplane-build.sh

vet:
	go vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Known vulnerabilities in the functions the code reaches: govulncheck
# from its Go module, with the Go vulnerability database at vuln.go.dev
# (needs that host; GOVULNDB points it at a mirror or a local copy).
GOVULNCHECK_VERSION ?= v1.9.0
vulncheck:
	go run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) ./...

bench:
	bash bench/render.sh

# Native Go fuzzing of the parsers that read what a pull request brings
# (docs/fuzzing.md): FUZZTIME each, one target after the other. A crasher
# lands in the package's testdata/fuzz/<Target>/ and is then a regression
# case of `make test`; commit it with the fix.
FUZZTIME ?= 10m
FUZZ_TARGETS := ./fleet:FuzzLoad ./render/sops:FuzzDetect ./imageupdate:FuzzSelectTag ./imageupdate:FuzzPlanSetters ./diff:FuzzCompare
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} $${t##*:} ($(FUZZTIME))"; \
		go test $${t%%:*} -run '^$$' -fuzz "^$${t##*:}\$$" -fuzztime $(FUZZTIME); \
	done

# Renders the bundled example fleet (the README's first command).
render-example:
	go run ./cmd/fluxgate render testdata/fleets/fleet-infra --path clusters/production

# Container images (needs a Docker engine with buildx): the non-root CLI
# image and the GitHub Action's image (Dockerfile target "action").
IMAGE ?= ghcr.io/fluxgate/fluxgate
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE):$(VERSION) .
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --target action -t $(IMAGE):$(VERSION)-action .

# A release from the current tag vX.Y.Z: GoReleaser v2 (.goreleaser.yaml)
# makes the binaries, checksums and a draft GitHub release; buildx pushes
# both images for amd64 and arm64 as X.Y.Z and as the major tag vX that
# action.yml names (vX-action for the Action's image). Needs goreleaser,
# Docker with buildx, a GITHUB_TOKEN that may write releases, and a
# `docker login ghcr.io` that may write packages. IMAGE's owner is the
# publishing organisation (OWNER in ghcr.io/OWNER/fluxgate).
RELEASE_TAG = $(shell git describe --tags --exact-match 2>/dev/null)
MAJOR = $(firstword $(subst ., ,$(RELEASE_TAG)))
PLATFORMS ?= linux/amd64,linux/arm64
release:
	@test -n "$(RELEASE_TAG)" || { echo "release: HEAD has no tag"; exit 2; }
	goreleaser release --clean
	docker buildx build --push --platform $(PLATFORMS) --build-arg VERSION=$(RELEASE_TAG) --build-arg COMMIT=$(COMMIT) \
		-t $(IMAGE):$(RELEASE_TAG) -t $(IMAGE):$(MAJOR) .
	docker buildx build --push --platform $(PLATFORMS) --build-arg VERSION=$(RELEASE_TAG) --build-arg COMMIT=$(COMMIT) \
		--target action -t $(IMAGE):$(RELEASE_TAG)-action -t $(IMAGE):$(MAJOR)-action .

clean:
	rm -rf bin
