package config

import (
	"net/http"
	"strings"
	"testing"
)

// TestSettings_ProxyPasswordRedacted: a proxy URL with user:password@ is
// used as written, but what a screen, a log line or outpost-config shows
// carries no password.
func TestSettings_ProxyPasswordRedacted(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, managed, user string }{
		{"managed", `{"proxy_url":"http://bob:s3cr%40t@proxy.example.com:3128"}`, ""},
		{"preset", `{"defaults":{"proxy_url":"socks5://bob:s3cr%40t@proxy.example.com:1080"}}`, ""},
		{"user", "", `{"proxy_url":"https://bob:s3cr%40t@proxy.example.com"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Loader{ManagedPath: write(t, dir, tc.name+"-m.json", tc.managed), UserPath: write(t, dir, tc.name+"-u.json", tc.user)}
			s, err := l.Load()
			if err != nil {
				t.Fatal(err)
			}
			for _, shown := range []string{s.String(), statesText(s)} {
				if strings.Contains(shown, "s3cr") {
					t.Fatalf("password shown: %s", shown)
				}
				if !strings.Contains(shown, "bob:xxxxx@proxy.example.com") {
					t.Fatalf("redacted proxy not shown: %s", shown)
				}
			}
			proxy, err := s.Proxy()
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", "https://sync.example.com/", nil)
			u, err := proxy(req)
			if err != nil || u == nil {
				t.Fatalf("proxy %v, %v", u, err)
			}
			if p, _ := u.User.Password(); p != "s3cr@t" {
				t.Fatalf("the transport lost the proxy password: %q", p)
			}
		})
	}
}

func statesText(s *Settings) string {
	var b strings.Builder
	for _, st := range s.States() {
		b.WriteString(string(st.Field) + "=" + st.Value + "\n")
	}
	return b.String()
}
