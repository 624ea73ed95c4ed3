# syntax=docker/dockerfile:1
# The kit's four images, one target each (Skaffold's docker.target; docker build --target NAME):
#   server             addr-server: answers HTTP /addr (8080) and gRPC GetAddr (30051) with its pod IP
#   client-http        addr-client-http: GETs /addr in a loop, a new connection per request
#   client-grpc        addr-client-grpc: calls GetAddr in a loop over one gRPC channel
#   xds-control-plane  addr-xds-control-plane: serves a Service's ready pods to xds:/// clients (ADS, 18000)
# They differ only in the program they run: one build, and one runtime stage whose layers (Node.js, then
# out/) all four share, so a registry and a node store those once.

# Build: compile and bundle; out/ then holds the executables, the .proto and production dependencies only.
FROM node:26-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/node-version.mjs scripts/programs.mjs scripts/
COPY proto/ proto/
COPY k8s/server.yml k8s/
COPY k8s/strategies/ k8s/strategies/
COPY k8s/faults/ k8s/faults/
COPY scenarios/ scenarios/
COPY src/ src/
RUN node scripts/build.mjs

# Run: Node.js (current LTS) and out/, as an unprivileged user; no compiler, dev dependency or source.
FROM node:26-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/out/ ./
USER 1000:1000

FROM runtime AS server
EXPOSE 8080 30051
ENTRYPOINT ["node", "/app/server"]

FROM runtime AS client-http
ENTRYPOINT ["node", "/app/client-http"]

FROM runtime AS client-grpc
ENTRYPOINT ["node", "/app/client-grpc"]

FROM runtime AS xds-control-plane
EXPOSE 18000
ENTRYPOINT ["node", "/app/xds-control-plane"]
