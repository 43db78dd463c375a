FROM node:20-alpine
ARG NPM_TOKEN
ENV NODE_ENV production
ENV PORT 3000
ENV HOST=0.0.0.0 URL=http://$HOST:$PORT
RUN apk add --no-cache tini
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > ~/.npmrc
WORKDIR /usr/src/app
COPY package.json ./
COPY package-lock.json ./
COPY .npmrc* ./
RUN npm ci --omit=dev
RUN rm -f ~/.npmrc
COPY . .
RUN npm run build && \
    npm prune --production # keep only what runs
RUN ["node", "--version"]
RUN node --version
EXPOSE 3000
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["node", "server.js"]
