# The controller's image, used by docker-compose.yml and the Helm chart (charts/gantry). It runs
# the TypeScript sources with tsx (a runtime dependency), so the image is the repo minus dev
# tooling. Caddy is Debian's 2.6, the version the edge is tested against: docker-compose.yml runs
# the edge's two Caddy processes from this same image, and `edge.manage: true` starts them inside
# the controller's container instead.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
RUN apt-get update && apt-get install -y --no-install-recommends caddy ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/gantry
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY schema ./schema
COPY tsconfig.json ./
# The data dir (repo cache, edge logs) belongs to the unprivileged user; a named volume mounted
# here starts with this ownership.
RUN mkdir -p /var/lib/gantry/edge && chown -R node:node /var/lib/gantry
# No root inside: the Docker socket is reached through its group (compose: group_add).
USER node
EXPOSE 8700
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8700/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/gantry.js"]
CMD ["serve", "--config", "/etc/gantry/gantry.config.yaml"]
