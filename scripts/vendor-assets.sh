#!/usr/bin/env bash
# Copy the front-end files the templates use from node_modules/ (installed by `npm ci` from
# package-lock.json) into static/vendor/, which the app serves itself (no CDN).
# Used by `make assets` and the Dockerfile. Add a line here when a template needs a new file.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p static/vendor
cp node_modules/bootstrap/dist/css/bootstrap.min.css \
   node_modules/bootstrap/dist/css/bootstrap.min.css.map \
   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js \
   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map \
   node_modules/htmx.org/dist/htmx.min.js \
   static/vendor/
