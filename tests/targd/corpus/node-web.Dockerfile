# syntax=docker/dockerfile:1
ARG NODE_VERSION=20

# ---- dependencies (all, for building) ----
FROM node:${NODE_VERSION}-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci

# ---- production dependencies only ----
FROM node:${NODE_VERSION}-alpine AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

# ---- build the bundle ----
FROM deps AS build
COPY . .
RUN npm run build

# ---- storybook: for designers, never shipped ----
FROM build AS storybook
RUN npm run build-storybook
FROM nginx:1.27-alpine AS storybook-server
COPY --from=storybook /app/storybook-static /usr/share/nginx/html

# ---- runtime ----
FROM node:${NODE_VERSION}-alpine AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
CMD ["node", "dist/server.js"]
