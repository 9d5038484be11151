# syntax=docker/dockerfile:1
# The checkpoint-merger image: the init container of every agent pod when checkpoint migration is on. From the
# repository root, tagged with the merger's own version (src/merger/version.ts MERGER_VERSION), never the operator's:
#   docker build -f deploy/docker/checkpoint-merger.Dockerfile -t checkpoint-merger:0.1.0 .
#
# - The merger imports Node built-ins only, so the image has no node_modules at all: just the compiled
#   cli/checkpoint-merger.js and the three directories it imports (merger, vector, fs), plus a two-line
#   package.json that marks them as ES modules.
# - It runs as root (uid 0). It rewrites checkpoint files in the agent's data dir, a hostPath (/var/lib/vector by
#   default) that Vector, itself root in the default agent image, creates root-owned. Where the data dir belongs to
#   another uid, run the init container as that uid instead (docs/install.md). Nothing else is privileged: the pod
#   spec gives it a read-only root filesystem and drops every capability; it writes only the data dir and its
#   termination message.
# - test/deploy/dockerfiles.test.ts copies exactly the files listed here into an empty directory and runs them.
ARG NODE_MAJOR=24

FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY lab ./lab
RUN npm run build

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12
WORKDIR /app
COPY deploy/docker/checkpoint-merger.package.json ./package.json
COPY --from=build /src/dist/src/cli/checkpoint-merger.js ./dist/src/cli/checkpoint-merger.js
COPY --from=build /src/dist/src/merger ./dist/src/merger
COPY --from=build /src/dist/src/vector ./dist/src/vector
COPY --from=build /src/dist/src/fs ./dist/src/fs
COPY --from=build /src/dist/src/kube/labels.js ./dist/src/kube/labels.js
USER 0:0
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/cli/checkpoint-merger.js"]
