# syntax=docker/dockerfile:1
#
# all-MiniLM-L6-v2 embedding service. Debian bookworm (glibc) Node 24 LTS slim: onnxruntime-node's
# prebuilt binaries need glibc, so no Alpine; Node 20 reached end of life on 2026-04-30. The model is
# downloaded at build time; the running container never talks to the hub.
#
#   docker build -t embedding-service .                       # --build-arg HF_ENDPOINT=<mirror>
#   docker run --rm -p 8003:8003 --read-only embedding-service
#
# Base image pinned by digest, the same in both stages: node:24-bookworm-slim as of Node 24.18.0. The digest
# was taken from a public repository that builds from this exact reference (a deploy Dockerfile and
# its build report, July 2026); it could NOT be verified here (no registry serving Docker Hub
# manifests is reachable from the build machines). Before the first production build, check that it
# is the multi-arch index (amd64 and arm64), then update it deliberately:
#   docker buildx imagetools inspect node:24-bookworm-slim     # "Digest:" line and the platforms
# The image ships npm 11, which reads package.json's allowScripts.

FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS build
WORKDIR /app
# onnxruntime-node's install script only downloads CUDA libraries (the CPU binaries ship in the
# package). package.json's allowScripts denies it on npm >= 11 (this image's); the variable covers
# any npm.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.app.json tsconfig.base.json ./
COPY app ./app
# app/ only: development tools (scripts/, bench/) are not part of the image.
RUN npm run build:app
# Hub or mirror for the model download (build time only); empty means https://huggingface.co.
ARG HF_ENDPOINT=
# The int8 variant too (23 MB), so EMBEDDING_MODEL_FILE=onnx/model_quint8_avx2.onnx needs no rebuild.
RUN node dist/app/cli/fetch-model.js /app/models/all-MiniLM-L6-v2 --include onnx/model_quint8_avx2.onnx --quiet
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS runtime
ENV NODE_ENV=production \
    PORT=8003 \
    EMBEDDING_MODEL_DIR=/app/models/all-MiniLM-L6-v2 \
    LOG_LEVEL=info
WORKDIR /app
# Owned by root and read-only to the service user: the app writes nothing at runtime, not even to
# /tmp, so the container runs with a read-only root filesystem and no writable mount.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/models ./models
# The node image's unprivileged user (uid/gid 1000), also named in the ECS task definition.
USER node
EXPOSE 8003
# No curl in the image: Node's own fetch. 200 only when the model is loaded (503 while loading).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8003)+'/health').then((r)=>process.exit(r.status===200?0:1)).catch(()=>process.exit(1))"]
# The server itself, no npm wrapper, so SIGTERM reaches Node directly (it drains, then exits).
CMD ["node", "dist/app/main.js"]
