package config

import (
	"errors"
	"testing"
)

// TestLoader_PlainHTTPServer: server_url over plain http:// to another
// computer would send the device token in clear. It is refused (reported,
// and not used) unless the managed file sets allow_insecure_http; loopback
// addresses are always allowed. Only the managed file can allow it.
func TestLoader_PlainHTTPServer(t *testing.T) {
	cases := []struct {
		name, managed, user string
		want                string // the server_url used
		errField            string // "" = no problem
		allowed             bool
	}{
		{"managed http to a host", `{"server_url":"http://sync.example.com:8787"}`, "", "", "server_url", false},
		{"managed http to an address", `{"server_url":"http://10.1.2.3:8787"}`, "", "", "server_url", false},
		{"preset http", `{"defaults":{"server_url":"http://sync.example.com"}}`, "", "", "defaults.server_url", false},
		{"user http", "", `{"server_url":"http://sync.example.com"}`, "", "server_url", false},
		{"user https", "", `{"server_url":"https://sync.example.com"}`, "https://sync.example.com", "", false},
		{"loopback v4", `{"server_url":"http://127.0.0.1:8787"}`, "", "http://127.0.0.1:8787", "", false},
		{"loopback name", `{"server_url":"http://localhost:8787"}`, "", "http://localhost:8787", "", false},
		{"loopback v6", `{"server_url":"http://[::1]:8787"}`, "", "http://[::1]:8787", "", false},
		{"a name that only starts like loopback", `{"server_url":"http://127.0.0.1.evil.example"}`, "", "", "server_url", false},
		{"allowed by IT", `{"server_url":"http://sync.example.com","allow_insecure_http":true}`, "", "http://sync.example.com", "", true},
		{"allowed by IT, user's server", `{"allow_insecure_http":true}`, `{"server_url":"http://lab.example.com"}`, "http://lab.example.com", "", true},
		{"allowed by the user file: refused", "", `{"allow_insecure_http":true,"server_url":"http://sync.example.com"}`, "", "allow_insecure_http", false},
		{"allow is not a bool", `{"allow_insecure_http":"yes","server_url":"http://sync.example.com"}`, "", "", "allow_insecure_http", false},
		{"allow false", `{"allow_insecure_http":false,"server_url":"http://sync.example.com"}`, "", "", "server_url", false},
		{"allowed as a preset: refused", `{"defaults":{"allow_insecure_http":true},"server_url":"http://sync.example.com"}`, "", "", "defaults.allow_insecure_http", false},
		{"a locked server_url ignores the user file", `{"locked":["server_url"]}`, `{"server_url":"http://sync.example.com"}`, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := &Loader{ManagedPath: write(t, dir, "m.json", tc.managed), UserPath: write(t, dir, "u.json", tc.user)}
			s, err := l.Load()
			if s.ServerURL() != tc.want {
				t.Errorf("server_url = %q, want %q", s.ServerURL(), tc.want)
			}
			if s.AllowInsecureHTTP() != tc.allowed {
				t.Errorf("AllowInsecureHTTP = %v, want %v", s.AllowInsecureHTTP(), tc.allowed)
			}
			if tc.errField == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Field != tc.errField {
				t.Fatalf("error %v, want one naming %q", err, tc.errField)
			}
		})
	}
}

func TestCheckServerURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"":                                 true,
		"https://sync.example.com":         true,
		"http://127.0.0.1":                 true,
		"http://127.8.9.10:1":              true,
		"http://localhost":                 true,
		"http://LOCALHOST:80":              true,
		"http://[::1]:8787":                true,
		"http://sync.example.com":          false,
		"http://192.168.1.10:8787":         false,
		"HTTP://sync.example.com":          false,
		"http://localhost.evil.com":        false,
		"http://[::ffff:10.0.0.1]:1":       false,
		"http://127.0.0.1@evil.example":    false,
		"http://localhost:80@evil.example": false,
		"http://127.0.0.1.nip.io":          false,
	} {
		err := CheckServerURL(u, false)
		if (err == nil) != ok {
			t.Errorf("CheckServerURL(%q) = %v, want ok %v", u, err, ok)
		}
		if err != nil && !errors.Is(err, ErrInsecureHTTP) {
			t.Errorf("CheckServerURL(%q) = %v, not ErrInsecureHTTP", u, err)
		}
		if err := CheckServerURL(u, true); err != nil {
			t.Errorf("CheckServerURL(%q, allowed) = %v", u, err)
		}
	}
}
