# The controller's own image, used by docker-compose.yml (and later the Helm chart).
# It runs the TypeScript sources with tsx, so the image is the repo minus dev tooling.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
# The controller runs its edge (a pair of Caddy processes) itself.
RUN apt-get update && apt-get install -y --no-install-recommends caddy ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/gantry
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY schema ./schema
COPY tsconfig.json ./
# Gantry talks to the Docker engine through the mounted socket; it needs no root inside.
USER node
EXPOSE 8700
ENTRYPOINT ["node", "bin/gantry.js"]
CMD ["serve", "--config", "/etc/gantry/gantry.config.yaml"]
