ARG PHP=8.3

FROM composer:2 AS vendor
WORKDIR /app
COPY composer.json composer.lock ./
RUN composer install --no-dev --no-scripts --prefer-dist

FROM node:20 AS assets
WORKDIR /app
COPY package.json vite.config.js ./
COPY resources resources
RUN npm ci && npm run build

from php:${PHP}-fpm-alpine as base
run docker-php-ext-install pdo_mysql opcache

from base as dev
run apk add --no-cache $PHPIZE_DEPS && pecl install xdebug

from base
workdir /var/www/html
copy --from=vendor /app/vendor ./vendor
copy --from=1 /app/public/build ./public/build
copy . .
