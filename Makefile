# Local stack without Docker: Kafka (Maven jars) + FerretDB (Go) + the three services.
# Caches and data live in .infra/ (ONCORELAY_INFRA_DIR); see infra/*.sh for the knobs.
.PHONY: install up down infra test lint demo evaluate bench clean chaos

install:  ## venv, Kafka jars, FerretDB binary (reused when present)
	bash infra/install.sh

up:       ## Kafka + FerretDB + ingest/annotate/notify
	bash infra/up.sh

infra:    ## Kafka + FerretDB only
	ONCORELAY_SKIP_SERVICES=1 bash infra/up.sh

down:     ## stop everything (data kept)
	bash infra/down.sh

test:     ## pytest against Kafka + FerretDB; extra args: make test ARGS="-k intake"
	bash infra/run-tests.sh $(ARGS)

lint:     ## ruff, the import layers (import-linter) and strict types (mypy); all configured in pyproject.toml
	bash infra/install.sh
	.venv/bin/ruff check contracts services oncorelay tests bench chaos
	.venv/bin/lint-imports --no-cache
	.venv/bin/mypy

demo:    ## start the stack (alerts to the demo receiver) and publish example results
	ONCORELAY_WEBHOOK_URLS=$${ONCORELAY_WEBHOOK_URLS:-http://127.0.0.1:8199/mtb-alerts} bash infra/up.sh
	.venv/bin/python -m oncorelay.demo

bench:    ## benchmarks on a private stack: table + bench/results.json (~10 min); ARGS="--quick" to try it
	bash infra/install.sh
	.venv/bin/python -m bench.run $(ARGS)

chaos:    ## fault run on a private stack: SIGKILLs, broker and DB restarts; ARGS="--results 200 --seconds 300"
	bash infra/install.sh
	.venv/bin/python -m chaos.run $(ARGS)

evaluate:  ## the label regression set, then interpretation vs CIViC expert calls; CIVIC_DIR=... for another export
	bash infra/install.sh
	.venv/bin/python -m oncorelay.cli evaluate services/annotate/knowledge/truth/label-regression.tsv
	.venv/bin/python -m oncorelay.civic_evaluation $(CIVIC_DIR)

clean: down  ## remove data, pids and logs; keep the jar/binary/venv caches
	infra_dir="$${ONCORELAY_INFRA_DIR:-.infra}"; \
	rm -rf "$${ONCORELAY_KAFKA_DATA_DIR:-$$infra_dir/kafka/data}" \
	       "$${ONCORELAY_FERRETDB_DATA_DIR:-$$infra_dir/ferretdb/data}" \
	       "$$infra_dir/run" "$$infra_dir/logs" "$$infra_dir/services"
