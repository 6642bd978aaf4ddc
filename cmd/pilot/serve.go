package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// fileServer serves a directory over HTTP on 127.0.0.1 for one episode.
type fileServer struct {
	srv  *http.Server
	url  string        // http://127.0.0.1:PORT
	done chan struct{} // closed when Serve returns
	err  error         // Serve's error, valid after done
}

// serveDir starts serving dir on a random port of 127.0.0.1.
func serveDir(dir string) (*fileServer, error) {
	fs, err := serveHandler(http.FileServer(http.Dir(dir)))
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", dir, err)
	}
	return fs, nil
}

// serveHandler starts serving h on a random port of 127.0.0.1.
func serveHandler(h http.Handler) (*fileServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fs := &fileServer{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		url:  "http://" + ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(fs.done)
		fs.err = fs.srv.Serve(ln)
	}()
	return fs, nil
}

// Close stops the server, waiting a little for requests in flight.
func (fs *fileServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := fs.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, fs.srv.Close())
	}
	<-fs.done
	if fs.err != nil && !errors.Is(fs.err, http.ErrServerClosed) {
		err = errors.Join(err, fs.err)
	}
	if err != nil {
		return fmt.Errorf("stop serving: %w", err)
	}
	return nil
}
