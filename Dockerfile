# syntax=docker/dockerfile:1
#
# fluxgate container images (make image):
#   default target  ghcr.io/OWNER/fluxgate:TAG         distroless static, non-root
#   --target action ghcr.io/OWNER/fluxgate:TAG-action  the GitHub Action's image, root
#
# The builder is golang:1.27. The project pins its toolchain with
# GOTOOLCHAIN=go1.27.3 (Makefile, .ci/run); the same setting here makes the
# image's go command fetch exactly that toolchain from the module proxy when
# the image carries another 1.27 patch release, so images and `make build`
# compile with the same Go.

ARG GO_VERSION=1.27
# A release refuses base images not pinned by digest (release.yaml); pin
# each FROM as IMAGE:TAG@sha256:..., the digest from
#   go run github.com/google/go-containerregistry/cmd/crane@v0.22.1 digest IMAGE:TAG
# and Dependabot (.github/dependabot.yml) keeps the digests current.

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Stamped like the Makefile's LDFLAGS: -X main.version -X main.commit.
ARG VERSION=dev
ARG COMMIT=none
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/fluxgate ./cmd/fluxgate
# The in-cluster agent comes with its own issue; its binary will be built here:
# RUN ... go build -trimpath ... -o /out/fluxgate-controller ./cmd/fluxgate-controller

# The GitHub Action's image. GitHub runs container actions as the image's
# user, and its Dockerfile guidance is that they must run as the default
# user, root: the workspace and the $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY
# files are mounted owned by the runner's user, which a non-root user of
# the image cannot write. Nothing else should use this target.
FROM gcr.io/distroless/static-debian12:latest AS action
COPY --from=build /out/fluxgate /usr/local/bin/fluxgate
USER 0:0
ENTRYPOINT ["/usr/local/bin/fluxgate"]

# The image for everything else (CI jobs, `docker run`). distroless static
# holds CA certificates (/etc/ssl/certs), tzdata and /etc/passwd; no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/fluxgate /usr/local/bin/fluxgate
# COPY --from=build /out/fluxgate-controller /usr/local/bin/fluxgate-controller
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/fluxgate"]
