package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
)

// RootCAs returns the certificate pool for the sync server: nil (the system
// pool) when no CA bundle is set, else the system pool plus every
// certificate of the bundle. A bundle that cannot be read or holds no
// certificate is an error, never silently skipped.
func (s *Settings) RootCAs() (*x509.CertPool, error) {
	return CertPool(s.CABundle(), "("+string(CABundle)+")")
}

// CertPool is RootCAs for the bundle at path, wherever it is named (the app
// also takes one from the environment): nil for none, else the system's
// pool with path's certificates added. where, when set, says in a read
// error where path came from.
func CertPool(path, where string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		if where != "" {
			where = " " + where
		}
		return nil, fmt.Errorf("read CA bundle%s: %w", where, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read CA bundle %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// Proxy returns the proxy function for an http.Transport: the environment's
// (HTTPS_PROXY, NO_PROXY) when ProxyURL is empty, none for ProxyDirect, else
// the URL given.
func (s *Settings) Proxy() (func(*http.Request) (*url.URL, error), error) {
	return ProxyFunc(s.ProxyURL())
}

// ProxyFunc is Proxy for the proxy URL p, wherever it is named (the app also
// takes one from the environment).
func ProxyFunc(p string) (func(*http.Request) (*url.URL, error), error) {
	switch p {
	case "":
		return http.ProxyFromEnvironment, nil
	case ProxyDirect:
		return nil, nil
	}
	u, err := url.Parse(p)
	if err != nil {
		// url.Error repeats the URL, password and all: keep only why.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("proxy url: %w", err)
	}
	return http.ProxyURL(u), nil
}

func isWindows() bool { return runtime.GOOS == "windows" }
