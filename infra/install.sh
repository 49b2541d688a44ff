#!/usr/bin/env bash
# Prepare everything `make up` needs, reusing what is already there:
#   1. .venv with `pip install -e .[dev]` (redone when pyproject.toml, setup.py or the Cython fast path changes)
#   2. Kafka jars in $ONCORELAY_INFRA_DIR/kafka/libs (Maven; refetched when infra/kafka/pom.xml changes)
#   3. FerretDB binary $ONCORELAY_INFRA_DIR/bin/ferretdb (Go; rebuilt when infra/ferretdb/* changes)
#   4. Prometheus and promtool (Debian's `prometheus` package) for the alert-rule and dashboard tests
#      and the scrape test; skipped with ONCORELAY_SKIP_PROMETHEUS=1
# Needs python3.11, Java 17, mvn and go on PATH (and apt-get, as root or with sudo, for step 4).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# quietly NAME CMD...: run CMD with its output in $LOG_DIR/install-NAME.log; show the tail if it fails.
quietly() {
  local out="$LOG_DIR/install-$1.log"; shift
  mkdir -p "$LOG_DIR"
  "$@" >"$out" 2>&1 || { tail_log "$out"; die "failed: $* (full output: $out)"; }
}

# --- 1. Python virtualenv ----------------------------------------------------------------------
if [[ ! -x $PY ]]; then
  log "creating virtualenv $VENV"
  "$(command -v python3.11 || command -v python3)" -m venv "$VENV"
fi
want=$(hash_of pyproject.toml setup.py services/ingest/adapters/vcf/_fastpath.pyx)
stamp="$VENV/.oncorelay-installed"
if [[ $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
  log "pip install -e .[dev] (pyproject.toml, setup.py or _fastpath.pyx changed, or first install)"
  quietly pip "$PY" -m pip install -e '.[dev]'
  echo "$want" >"$stamp"
else
  log "virtualenv up to date"
fi

# --- 2. Kafka jars --------------------------------------------------------------------------------
libs="$INFRA_DIR/kafka/libs"
want=$(hash_of infra/kafka/pom.xml)
if [[ $(cat "$libs/.pom-hash" 2>/dev/null) != "$want" ]]; then
  log "fetching Kafka jars into $libs (mvn)"
  tmp="$libs.tmp"
  rm -rf "$tmp"
  quietly mvn mvn -B -f infra/kafka/pom.xml \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp"
  ls "$tmp"/kafka_2.13-*.jar >/dev/null || die "no kafka_2.13 jar after the Maven fetch"
  echo "$want" >"$tmp/.pom-hash"
  rm -rf "$libs" && mv "$tmp" "$libs" # swap in whole, so an interrupted fetch is never used
else
  log "Kafka jars up to date ($(ls "$libs"/*.jar | wc -l) jars)"
fi

# --- 3. FerretDB binary ---------------------------------------------------------------------------
# FerretDB 1.24.2 from the Go module proxy, with the patches in infra/ferretdb/patches applied to a copy
# of its module (see each patch's header for why); our module is built against that copy.
bin="$INFRA_DIR/bin/ferretdb"
want=$(hash_of infra/ferretdb/go.mod infra/ferretdb/go.sum infra/ferretdb/*.go infra/ferretdb/patches/*.patch)
if [[ ! -x $bin || $(cat "$bin.hash" 2>/dev/null) != "$want" ]]; then
  log "building $bin (go; the first cold build takes a few minutes)"
  mkdir -p "$(dirname "$bin")"
  build="$INFRA_DIR/ferretdb-build"
  rm -rf "$build" && mkdir -p "$build"
  cp infra/ferretdb/go.mod infra/ferretdb/go.sum infra/ferretdb/*.go "$build/"
  (
    cd "$build"
    export CGO_ENABLED=0
    quietly go-download go mod download github.com/FerretDB/FerretDB
    upstream=$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
    cp -r "$upstream" ferretdb-src && chmod -R u+w ferretdb-src
    for p in "$REPO"/infra/ferretdb/patches/*.patch; do
      (cd ferretdb-src && git apply "$p") || die "patch $(basename "$p") does not apply to $upstream"
    done
    go mod edit -replace github.com/FerretDB/FerretDB=./ferretdb-src
    quietly go go build -trimpath -o "$bin.tmp" .
  )
  mv -f "$bin.tmp" "$bin"
  echo "$want" >"$bin.hash"
else
  log "FerretDB binary up to date"
fi

# --- 4. Prometheus + promtool (Debian package; promtool ships inside it on bookworm) ----------------
if [[ ${ONCORELAY_SKIP_PROMETHEUS:-0} == 1 ]]; then
  log "Prometheus: skipped (ONCORELAY_SKIP_PROMETHEUS=1)"
elif command -v promtool >/dev/null && command -v prometheus >/dev/null; then
  log "Prometheus up to date ($(prometheus --version 2>&1 | head -n1 | awk '{print $3}'))"
else
  command -v apt-get >/dev/null || die "prometheus/promtool missing and no apt-get: install Prometheus 2.x so both are on PATH"
  as_root=()
  ((EUID == 0)) || as_root=(sudo -n)
  log "installing Debian's prometheus package (apt-get)"
  quietly apt-update "${as_root[@]}" apt-get update
  quietly apt-prometheus "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends prometheus
  command -v promtool >/dev/null || die "apt-get installed prometheus but promtool is not on PATH"
fi

# --- 5. Chromium + ChromeDriver for the browser tests (Debian packages; no browser download) --------
if [[ ${ONCORELAY_SKIP_CHROMIUM:-0} == 1 ]]; then
  log "Chromium: skipped (ONCORELAY_SKIP_CHROMIUM=1)"
elif command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  log "Chromium up to date ($(chromium --version 2>/dev/null | awk '{print $2}'))"
else
  command -v apt-get >/dev/null || die "chromium/chromedriver missing and no apt-get: install Chromium and its ChromeDriver so both are on PATH"
  as_root=()
  ((EUID == 0)) || as_root=(sudo -n)
  log "installing Debian's chromium and chromium-driver packages (apt-get)"
  quietly apt-update-chromium "${as_root[@]}" apt-get update
  quietly apt-chromium "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends chromium chromium-driver
  command -v chromedriver >/dev/null || die "apt-get installed chromium-driver but chromedriver is not on PATH"
fi
