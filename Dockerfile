# One image for every Driftline component: docker-compose.yml runs it as the predict service,
# each consumer and the dashboard, each with its own `command` (a driftline subcommand).
FROM node:20-bookworm

WORKDIR /app
ENV NODE_ENV=production \
    DRIFTLINE_HOME=/data \
    DRIFT_REPORTS_DIR=/data/reports

# Dependencies first, so a source change does not reinstall them. Dev tools (tests, biome,
# playwright) are left out; tsx, which runs the TypeScript sources, is a runtime dependency.
# @tensorflow/tfjs-node is optional: where its native download fails, TF.js runs on wasm.
# chDB lists optional engine packages for other platforms that a registry mirror may not serve;
# `npm ci` then reports a lock-file mismatch, and `npm install` (what the README uses) resolves it.
COPY package.json package-lock.json ./
RUN (npm ci --omit=dev || npm install --omit=dev) && npm cache clean --force

COPY . .
# The launcher's bundle of the sources (bin/fast-start.js), built now: the app directory is not
# writable at run time.
RUN node bin/driftline.js help > /dev/null && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]

ENTRYPOINT ["node", "bin/driftline.js"]
CMD ["help"]
