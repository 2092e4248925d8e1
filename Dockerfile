# The BeTrace sidecar (`betrace serve`), built from this repository.
#   docker build -t betrace-sidecar .
#   docker run -p 4318:4318 -p 4317:4317 -p 3001:3001 -e BETRACE_API_TOKEN=... betrace-sidecar
FROM node:24-bookworm-slim AS build
WORKDIR /app
# The manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
COPY packages/evaluator/package.json packages/evaluator/
COPY packages/sidecar/package.json packages/sidecar/
# --ignore-scripts: the root `prepare` (the TypeScript build) runs below, once the sources are in;
# better-sqlite3 loads the prebuilt binary its npm package ships for linux x64/arm64.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.base.json ./
COPY packages/evaluator packages/evaluator
COPY packages/sidecar packages/sidecar
RUN npm run build:packages && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/packages/evaluator/package.json packages/evaluator/
COPY --from=build /app/packages/evaluator/dist packages/evaluator/dist
COPY --from=build /app/packages/sidecar/package.json packages/sidecar/
COPY --from=build /app/packages/sidecar/dist packages/sidecar/dist
COPY examples/rules examples/rules
RUN mkdir -p /data /keys /anchors && chown node:node /data /keys /anchors && chmod 700 /keys
USER node
# The documented defaults (README "Configuration"), with the state on a volume and the example
# rules provisioned read-only.
ENV DATA_DIR=/data \
  EVIDENCE_KEY_DIR=/keys \
  EVIDENCE_ANCHOR_DIR=/anchors \
  RULES_DIR=/app/examples/rules \
  HOST=0.0.0.0 \
  OTLP_PORT=4318 \
  OTLP_GRPC_PORT=4317 \
  API_PORT=3001
# Evidence secrets and anchors live apart from the data folder (docs/evidence.md, Keys and Anchors).
VOLUME /data /keys /anchors
EXPOSE 4318 4317 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:3001/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "packages/sidecar/dist/cli.js"]
CMD ["serve"]
