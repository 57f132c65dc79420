# The image every Tide controller runs from (charts/tide starts `node dist/controllers/<name>/main.js`,
# and the dashboard's `dist/controllers/ui/main.js` with its bundle built by hack/build-ui.ts):
# Node 24 slim with git and openssh-client, plus the pinned helm, kustomize and sops binaries built
# from the Go module proxy exactly as hack/tools.sh builds them. Runs as a non-root user and works on a
# read-only root filesystem (the chart mounts emptyDirs at /tmp and, for source-controller, /data).
#   docker build -t tide:0.1.0 .
# The versions below must equal hack/versions.env (a unit test compares them).
ARG NODE_VERSION=24.21.0
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS tools
ARG HELM_VERSION=4.3.1
ARG KUSTOMIZE_VERSION=5.8.1
ARG SOPS_VERSION=3.13.3
ENV CGO_ENABLED=0 GOBIN=/out
RUN go install -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=v${HELM_VERSION}" \
      helm.sh/helm/v4/cmd/helm@v${HELM_VERSION} \
 && go install -ldflags "-s -w" sigs.k8s.io/kustomize/kustomize/v5@v${KUSTOMIZE_VERSION} \
 && go install -ldflags "-s -w" github.com/getsops/sops/v3/cmd/sops@v${SOPS_VERSION}

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY controllers controllers
COPY hack hack
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && node hack/build-ui.ts \
 && npm ci --ignore-scripts --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=tools /out/helm /out/kustomize /out/sops /usr/local/bin/
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY crds crds
COPY charts charts
# 65532 is the chart's runAsUser; no home, no shell profile, nothing writable in the image.
USER 65532:65532
ENV NODE_ENV=production HOME=/tmp
ENTRYPOINT ["node"]
CMD ["dist/controllers/cli/main.js", "version"]
