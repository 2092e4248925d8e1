# The BeTrace sidecar (`betrace serve`), built from this repository.
#   docker build -t betrace-sidecar .
#   docker run -p 4318:4318 -p 3001:3001 -e BETRACE_API_TOKEN=... betrace-sidecar
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary fits the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# The manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
COPY packages/evaluator/package.json packages/evaluator/
COPY packages/sidecar/package.json packages/sidecar/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/evaluator packages/evaluator
COPY packages/sidecar packages/sidecar
RUN npm run build:packages && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/packages/evaluator/package.json packages/evaluator/
COPY --from=build /app/packages/evaluator/dist packages/evaluator/dist
COPY --from=build /app/packages/sidecar/package.json packages/sidecar/
COPY --from=build /app/packages/sidecar/dist packages/sidecar/dist
COPY examples/rules examples/rules
RUN mkdir -p /data && chown node:node /data
USER node
# The documented defaults (README "Configuration"), with the state on a volume and the example
# rules provisioned read-only.
ENV DATA_DIR=/data \
  RULES_DIR=/app/examples/rules \
  HOST=0.0.0.0 \
  OTLP_PORT=4318 \
  API_PORT=3001
VOLUME /data
EXPOSE 4318 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:3001/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "packages/sidecar/dist/cli.js"]
CMD ["serve"]
