# Gatehouse gateway image. Build: docker build -t gatehouse .   Run: docker run -p 8080:8080 gatehouse
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json gatehouse.yaml ./
COPY routes.d ./routes.d
COPY plugins ./plugins
COPY protos ./protos
COPY examples ./examples
USER node
EXPOSE 8080 9901
# SIGTERM drains in-flight requests (server.shutdownGrace) before the process exits.
STOPSIGNAL SIGTERM
# --max-semi-space-size: see src/heap-settings.ts (a smaller young generation; it only counts at startup).
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/cli.js"]
CMD ["start"]
