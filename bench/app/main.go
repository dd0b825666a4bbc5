// Command static is the zero-downtime bench's app: a static file server over /www on :8080
// (Go's net/http, one goroutine per connection, keep-alive), so its own capacity is far above
// the rate the bench offers and the bench measures Gantry rather than the app. Standard library
// only, built with CGO_ENABLED=0 by the bench (nothing is pulled). Besides the files:
//   - POST /cgi-bin/info reads the body and answers the host name and GANTRY_REVISION, like the
//     hello example's CGI (the bench's POSTs, which the edge never retries);
//   - on SIGTERM it stops accepting, finishes the requests in flight and closes idle
//     connections (http.Server.Shutdown), then exits.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	root := envOr("WWW", "/www")
	addr := envOr("LISTEN", ":8080")
	host, _ := os.Hostname()
	revision := os.Getenv("GANTRY_REVISION")

	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/info", func(w http.ResponseWriter, r *http.Request) {
		// Bounded: the bench sends a few bytes.
		n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "host %s\nrevision %s\nread %d bytes\n", host, revision, n)
	})
	mux.Handle("/", http.FileServer(http.Dir(root)))

	srv := &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// Longer than the edge keeps an idle connection to an instance, so the edge closes first.
		IdleTimeout: 5 * time.Minute,
	}
	done := make(chan struct{})
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		close(done)
	}()
	log.Printf("serving %s on %s", root, addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
	<-done
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
