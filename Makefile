# baomi — the two commands of the README: `make run` and `make test`.
UV_VERSION := 0.13.9
UV := python3 -m uv
export UV_PROJECT_ENVIRONMENT := .venv
# faker, which `baomi demo` and the tests draw invented customers with, is the `demo` extra.
EXTRAS := --extra demo

.PHONY: run test lint typecheck unit bench setup postgres clean i18n

setup:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet $(EXTRAS)

## Start the web service on embedded SQLite with the demo company (http://127.0.0.1:8000;
## another port: make run PORT=8080, or BAOMI_PORT).
run: setup
	$(UV) run --frozen $(EXTRAS) baomi demo $(if $(PORT),--port $(PORT))

## Lint, type-check and run the whole suite on SQLite and PostgreSQL.
test: setup postgres lint typecheck unit

lint:
	$(UV) run --frozen ruff check src tests benchmarks migrations
	$(UV) run --frozen ruff format --check src tests benchmarks migrations

typecheck:
	$(UV) run --frozen mypy src

unit:
	$(UV) run --frozen $(EXTRAS) pytest -n 2 --dist loadgroup

postgres:
	@scripts/ensure-postgres

## Benchmarks: each figure beside a floor measured in the same run. The HTTP benchmark drives
## the server with wrk (Debian's package), installed here when it is missing.
bench: setup
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(UV) run --frozen python -m benchmarks

## Extract the web UI's strings (babel.cfg) and update the zh_CN and en catalogs; then
## translate the new zh_CN entries. The catalogs are compiled in memory when the app starts.
I18N := src/baomi/web/translations
i18n: setup
	$(UV) run --frozen pybabel extract -F babel.cfg -k translate:2 --no-location --sort-output \
		--project=baomi --copyright-holder=baomi -o $(I18N)/messages.pot src/baomi/web
	$(UV) run --frozen pybabel update -i $(I18N)/messages.pot -d $(I18N) --width=100 \
		--ignore-obsolete --ignore-pot-creation-date --no-fuzzy-matching

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
