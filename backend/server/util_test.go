package server_test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type bufioReader struct{ lines chan string }

func newLineReader(r io.Reader) *bufioReader {
	br := &bufioReader{lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			br.lines <- sc.Text()
		}
		close(br.lines)
	}()
	return br
}

// waitFor reads lines until one starts with prefix or the timeout passes.
func (b *bufioReader) waitFor(t *testing.T, prefix string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-b.lines:
			if !ok {
				return false
			}
			if strings.HasPrefix(l, prefix) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// closed reports whether the stream ends within d.
func (b *bufioReader) closed(d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-b.lines:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

type recorder struct {
	*httptest.ResponseRecorder
	body *bytes.Buffer
}

func newRecorder() recorder {
	r := httptest.NewRecorder()
	return recorder{r, r.Body}
}

func mustReq(method, path string) *http.Request { return httptest.NewRequest(method, path, nil) }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func httptestServer(t *testing.T, srv interface{ Handler() http.Handler }) string {
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}
