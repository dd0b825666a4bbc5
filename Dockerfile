# The controller's image, used by docker-compose.yml and the Helm chart (charts/gantry). It runs
# the TypeScript sources with tsx (a runtime dependency), so the image is the repo minus dev
# tooling. Caddy is Debian's 2.6, the version the edge is tested against: docker-compose.yml runs
# the edge's two Caddy processes from this same image, and `edge.manage: true` starts them inside
# the controller's container instead.
# NODE_IMAGE: any Debian bookworm image with Node 20 (the suite builds one that needs no pull:
# scripts/compose-images.sh); one that already has Caddy skips apt.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
RUN command -v caddy >/dev/null || { apt-get update \
 && apt-get install -y --no-install-recommends caddy ca-certificates \
 && rm -rf /var/lib/apt/lists/*; }
WORKDIR /opt/gantry
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY schema ./schema
COPY tsconfig.json ./
# The data dir (repo cache, edge logs) belongs to the unprivileged user; a named volume mounted
# here starts with this ownership.
# The edge tiers' directories hold their admin sockets: 0700, so only this user reaches them. A
# fresh named volume starts as a copy of this.
RUN mkdir -p -m 700 /var/lib/gantry/edge/front /var/lib/gantry/edge/back \
  && chown -R node:node /var/lib/gantry
# No root inside: the Docker socket is reached through its group (compose: group_add).
USER node
EXPOSE 8700
# GANTRY_PORT: the API's port when set (compose on the host's network may move it).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.GANTRY_PORT||8700)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/gantry.js"]
CMD ["serve", "--config", "/etc/gantry/gantry.config.yaml"]
