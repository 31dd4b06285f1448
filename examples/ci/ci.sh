#!/usr/bin/env bash
# tidemark in any CI (or on your machine): the same steps as github-actions.yml, in a plain shell.
# Run it from the directory that holds tidemark.config.* after `npm ci` (tidemark a devDependency):
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ci_scratch examples/ci/ci.sh
#   DATABASE_URL=pglite:./.tidemark/ci examples/ci/ci.sh        # no server: embedded PGlite
#
# DATABASE_URL must name a database this run may migrate (a throwaway one: a CI service container,
# a scratch database), never production. `tidemark test` runs on a shadow: a temporary database on
# that server (its user needs CREATEDB), or in-process PGlite for a pglite: URL.
# Output: GitHub annotations (`::error file=…,line=…::`) under GitHub Actions, plain text elsewhere;
# TIDEMARK_FORMAT=text|json|github chooses. The first failing step stops the script with its exit
# code (1: a finding or a failed migration, 2: bad usage or config).
set -euo pipefail

if [[ -z "${DATABASE_URL:-}" ]]; then
  echo "ci.sh: DATABASE_URL is not set: name a throwaway database to migrate, e.g. postgres://postgres@127.0.0.1:5432/ci_scratch or pglite:./.tidemark/ci" >&2
  exit 2
fi
if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then default_format=github; else default_format=text; fi
format="${TIDEMARK_FORMAT:-$default_format}"

step() { echo "--- $*" >&2; }

step "1/4 history rules, files only (single head, numbering, sums, cross-service references)"
npx tidemark check --no-db --format "$format"

step "2/4 every migration up -> down -> up on a shadow; each service alone with what it requires; every order"
npx tidemark test --format "$format"

step "3/4 apply every service's migrations to DATABASE_URL"
npx tidemark up

step "4/4 the migrated database: ledger against files, schema drift against the replayed history"
npx tidemark check --db --format "$format"

echo "ci.sh: all steps passed" >&2
