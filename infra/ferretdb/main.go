// Command ferretdb runs FerretDB v1.24.2 embedded, on SQLite, as oncorelay's MongoDB-protocol
// server. Embedding avoids the panic of a plain `go install` binary (FerretDB issue #2982:
// build/version/version.txt is missing from the module zip).
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only when --debug-addr is given
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// sqlitePragmas are FerretDB's defaults (busy_timeout, journal_mode and auto_vacuum, in its order) plus
// synchronous(normal). SQLite's default, FULL, syncs the WAL to disk at every commit; NORMAL syncs at
// checkpoints only. A committed write still survives a crash of FerretDB or of a service (it is in the
// operating system's cache); only a power loss or kernel crash can undo the last commits, never corrupt the
// database. That is MongoDB's own default (w:1 without j: the journal is written every 100 ms). A single
// insert went from 0.69 to 0.35 ms round trip (0.44 to 0.24 ms of FerretDB CPU), and 60 s of panel results
// at 20/s on a fresh bench stack from p50 4.4-4.6 s / p99 8-10 s to p50 0.12-0.16 s / p99 0.7-1.0 s: each
// service's writes are sequential, so every fsync added to each result's time (bench/README.md).
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=auto_vacuum(none)" +
	"&_pragma=synchronous(normal)"

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory for the SQLite databases (created if missing)")
	debugAddr := flag.String("debug-addr", "", "if set, serve Go's pprof profiles here (for profiling)")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("--data-dir is required")
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		log.Fatalf("cannot create data dir: %v", err)
	}

	// FerretDB's live heap is small (tens of MB) but it allocates a lot per operation (documents are converted
	// to and from JSON for SQLite), so with Go's default GOGC=100 the collector runs very often. At 400,
	// oncorelay's benchmark burst (300 panel results) took 28-35 ms of FerretDB CPU per result instead of 42 ms,
	// with a peak RSS of 55 MB. The GOGC environment variable, when set, still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	if *debugAddr != "" {
		go func() { log.Print(http.ListenAndServe(*debugAddr, nil)) }()
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    slog.New(deferredAttrs{next: slog.Default().Handler()}),
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dataDir + "/?" + sqlitePragmas,
	})
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("ferretdb listening on %s, data in %s", *listen, *dataDir)
	if err := f.Run(ctx); err != nil {
		log.Fatalf("ferretdb: %v", err)
	}
}
