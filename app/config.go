package app

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/keychain"
)

// Environment variables a developer or a test may set. They fill a setting
// only when the managed configuration does not lock it: an operator can never
// escape IT's choices through the environment.
const (
	EnvServerURL = "OUTPOST_SERVER_URL"
	EnvEnroll    = "OUTPOST_ENROLL_CODE"
	EnvCABundle  = "OUTPOST_CA_BUNDLE"
	EnvProxyURL  = "OUTPOST_PROXY_URL"
)

// Config is what the app runs with: the settings of backend/config
// (managed > user > defaults), with unlocked fields filled from the
// environment. When Err is set the configuration could not be read: the app
// still opens its local store (work goes on offline) but sync does not start,
// and ErrSentence tells the operator why.
type Config struct {
	ServerURL, EnrollCode, CAFile string
	// KeyFile and Recipient come from the managed file; the environment
	// (keychain.EnvKeyFile, keychain.EnvRecoveryRecipient) is only a
	// fallback when it names none.
	KeyFile, Recipient string
	// KeyFileErr is set when the managed file names a kiosk key file that is
	// not valid: the store must not open with anything else.
	KeyFileErr error
	// Transport is the sync client's: the configured proxy and the system CAs
	// plus the extra bundle.
	Transport *http.Transport
	// AllowInsecureHTTP is the managed file's allow_insecure_http: a server
	// address may use plain http:// to another computer.
	AllowInsecureHTTP bool
	// Fields is the settings screen's view, secrets blanked.
	Fields []config.FieldState
	Err    error

	loader *config.Loader
}

// ErrSentence is Err as a sentence for the operator, or "".
func (c *Config) ErrSentence() string {
	if c == nil || c.Err == nil {
		return ""
	}
	// errors.Join puts one problem a line; the status bar shows one line.
	msg := strings.ReplaceAll(c.Err.Error(), "\n", "; ")
	return "Sync is off because Outpost's settings could not be read: " + msg +
		". Ask IT to correct the file; your work is kept on this computer meanwhile."
}

// LoadConfig resolves the configuration with l (nil: the OS's standard
// files) and getenv (nil: os.Getenv).
func LoadConfig(l *config.Loader, getenv func(string) string) *Config {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := &Config{loader: l}
	// The explicit opt-ins from the environment, used when the managed
	// file names none (or cannot be read).
	c.KeyFile, c.Recipient = getenv(keychain.EnvKeyFile), getenv(keychain.EnvRecoveryRecipient)
	if l == nil {
		nl, err := config.NewLoader()
		if err != nil {
			c.Err = fmt.Errorf("find the settings files: %w", err)
			return c
		}
		l, c.loader = nl, nl
	}
	// Load keeps every valid field when another is bad: the key file and the
	// recovery key apply even when sync cannot start.
	s, err := l.Load()
	c.AllowInsecureHTTP = s.AllowInsecureHTTP()
	if v := s.KioskKeyFile(); v != "" {
		c.KeyFile = v
	}
	if v := s.RecoveryPublicKey(); v != "" {
		c.Recipient = v
	}
	// A key file or recovery key IT named but got wrong is not replaced by
	// the environment's (or the keychain): the store refuses to open, and
	// no recovery file is written for someone else's key.
	if bad := managedFieldError(err, l.ManagedPath, config.KioskKeyFile); bad != nil {
		c.KeyFile, c.KeyFileErr = "", bad
	}
	if managedFieldError(err, l.ManagedPath, config.RecoveryPublicKey) != nil {
		c.Recipient = ""
	}
	if err != nil {
		c.Err = err
		c.Fields = maskedStates(s)
		return c
	}
	c.ServerURL, c.EnrollCode, c.CAFile = s.ServerURL(), s.EnrollmentCode(), s.CABundle()
	envCA, proxyURL := false, s.ProxyURL()
	for _, o := range []struct {
		field config.Field
		env   string
		dst   *string
	}{
		{config.ServerURL, EnvServerURL, &c.ServerURL},
		{config.EnrollmentCode, EnvEnroll, &c.EnrollCode},
		{config.CABundle, EnvCABundle, &c.CAFile},
		{config.ProxyURL, EnvProxyURL, &proxyURL},
	} {
		if v := getenv(o.env); v != "" && !s.Locked(o.field) {
			if err := config.Validate(o.field, v); err != nil {
				c.Err = fmt.Errorf("environment variable %s: %w", o.env, err)
				return c
			}
			if o.field == config.ServerURL {
				if err := config.CheckServerURL(v, c.AllowInsecureHTTP); err != nil {
					c.Err = fmt.Errorf("environment variable %s: %w", o.env, err)
					return c
				}
			}
			*o.dst = v
			envCA = envCA || o.field == config.CABundle
		}
	}
	c.Fields = maskedStates(s)
	proxy, err := s.Proxy()
	if proxyURL != s.ProxyURL() {
		proxy, err = config.ProxyFunc(proxyURL)
	}
	if err != nil {
		c.Err = err
		return c
	}
	var pool *x509.CertPool
	if envCA {
		pool, err = config.CertPool(c.CAFile, "")
	} else {
		pool, err = s.RootCAs()
	}
	if err != nil {
		c.Err = err
		return c
	}
	c.Transport = newTransport(proxy, pool, c.AllowInsecureHTTP)
	return c
}

// Log writes the configuration to logger: every setting with its source and
// lock (secrets as "(set)", a proxy password as "xxxxx"), or why it could not
// be read.
func (c *Config) Log(logger *slog.Logger) {
	if c.Err != nil {
		logger.Error("read configuration", "err", c.Err)
		return
	}
	for _, f := range c.Fields {
		logger.Info("setting", "field", f.Field, "value", f.Value, "source", f.Source, "locked", f.Locked)
	}
}

// CheckServerURL refuses a server address that would send the device token
// in clear (plain http:// to another computer) unless IT allows it, as a
// sentence for the address field of the Setup and Sync screens. c may be nil
// (no configuration: nothing is allowed).
func (c *Config) CheckServerURL(u string) error {
	allow := c != nil && c.AllowInsecureHTTP
	if err := config.CheckServerURL(u, allow); err != nil {
		return fieldError(CodeInvalidInput, "server_url",
			"This address uses plain http://, so the computer's key would be sent to the server unencrypted. "+
				"Use the https:// address of the sync server, or ask IT to allow http:// (%s in the managed configuration).",
			config.AllowInsecureHTTP).With("rule", "insecure_http")
	}
	return nil
}

// SetServerURL remembers the server an operator enrolled with in the user
// file (when IT does not manage it), so the setup screen shows it next time.
func (c *Config) SetServerURL(u string) error {
	if c == nil || c.loader == nil || c.Err != nil {
		return nil
	}
	s, err := c.loader.SetUser(config.ServerURL, u)
	if errors.Is(err, config.ErrLocked) {
		return nil
	}
	if err != nil {
		return err
	}
	c.Fields = maskedStates(s)
	return nil
}

// managedFieldError returns the problem err reports for field f of the
// managed file at path, or nil. err may join several problems.
func managedFieldError(err error, path string, f config.Field) error {
	if err == nil {
		return nil
	}
	var ce *config.Error
	if errors.As(err, &ce) && ce.File == path && ce.Field == string(f) {
		return ce
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if found := managedFieldError(e, path, f); found != nil {
				return found
			}
		}
	}
	return nil
}

// maskedStates is s.States() with secrets shown as "(set)".
func maskedStates(s *config.Settings) []config.FieldState {
	fs := s.States()
	for i := range fs {
		if fs[i].Secret && fs[i].Value != "" {
			fs[i].Value = "(set)"
		}
	}
	return fs
}

// newTransport is the sync client's transport: the proxy and CA pool of the
// configuration (a nil pool is the system's), TLS 1.2 or later. Unless
// allowInsecure (the managed allow_insecure_http), plain http:// requests go
// out only to this computer: whatever asks for another host over http (an
// address stored by an enrollment made before the rule, a redirect from the
// https:// server, which keeps the bearer token on the same host) gets
// config.ErrInsecureHTTP and nothing is sent.
func newTransport(proxy func(*http.Request) (*url.URL, error), pool *x509.CertPool, allowInsecure bool) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = proxy
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.ResponseHeaderTimeout = 0 // the event stream waits long for headers' successors
	tr.IdleConnTimeout = 90 * time.Second
	if !allowInsecure {
		tr.RegisterProtocol("http", loopbackOnly{next: tr.Clone()})
	}
	return tr
}

// loopbackOnly sends plain http:// requests to this computer only.
type loopbackOnly struct{ next http.RoundTripper }

func (l loopbackOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := config.CheckServerURL(req.URL.String(), false); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("refused before sending: %w", err)
	}
	return l.next.RoundTrip(req)
}
