package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Loader reads and writes the configuration files. Its paths are fields so
// tests (and a portable install) can point them elsewhere; "" skips a layer.
type Loader struct {
	ManagedPath string
	UserPath    string
	// Defaults are the built-in defaults, below everything else.
	Defaults map[Field]string
	// GOOS is the OS whose path rules apply ("" = this one): checking a
	// Windows config.json on Linux sets "windows".
	GOOS string
}

func (l *Loader) goos() string {
	if l.GOOS == "" {
		return runtime.GOOS
	}
	return l.GOOS
}

// NewLoader returns a Loader for this OS's standard paths.
func NewLoader() (*Loader, error) {
	user, err := UserPath()
	if err != nil {
		return nil, err
	}
	return &Loader{ManagedPath: ManagedPath(), UserPath: user}, nil
}

// Load reads both files and resolves the settings. A missing file is an
// empty layer. It always returns the settings, and with them an error for
// every problem found (each an *Error naming the file and field, joined):
// one bad value costs only its own field, never the rest of the file, and
// what cannot be read fails closed (see loadManaged and loadUser).
func (l *Loader) Load() (*Settings, error) {
	m, merr := loadManaged(l.goos(), l.ManagedPath)
	u, uerr := loadUser(l.goos(), l.UserPath)
	s := resolve(l.Defaults, m, u)
	return s, errors.Join(merr, uerr, l.refuseInsecure(s))
}

// refuseInsecure drops a server_url that would send the token in clear
// (CheckServerURL) and reports it against the file and field it came from.
// A managed one leaves the field locked, empty.
func (l *Loader) refuseInsecure(s *Settings) error {
	err := CheckServerURL(s.ServerURL(), s.AllowInsecureHTTP())
	if err == nil {
		return nil
	}
	ce := &Error{File: l.ManagedPath, Field: string(ServerURL), Err: err}
	switch s.Source(ServerURL) {
	case SourcePreset:
		ce.Field = "defaults." + string(ServerURL)
	case SourceUser:
		ce.File = l.UserPath
	case SourceDefault:
		ce.File = "(built-in defaults)"
	}
	s.values[ServerURL], s.sources[ServerURL] = "", SourceDefault
	return ce
}

// SetUser stores the operator's value for f in the user file and returns the
// new settings. A locked field gives ErrLocked and changes nothing; so does an
// invalid value (ErrInvalidValue) or a broken file.
func (l *Loader) SetUser(f Field, value string) (*Settings, error) {
	return l.updateUser(f, func(u layer) { u[f] = value }, value)
}

// ResetUser removes the operator's value for f, so the preset or default
// applies again.
func (l *Loader) ResetUser(f Field) (*Settings, error) {
	return l.updateUser(f, func(u layer) { delete(u, f) }, "")
}

func (l *Loader) updateUser(f Field, change func(layer), value string) (*Settings, error) {
	if l.UserPath == "" {
		return nil, fmt.Errorf("set %s: no user config file", f)
	}
	if !Known(f) {
		return nil, fmt.Errorf("set %s: %w", f, ErrUnknownField)
	}
	m, err := loadManaged(l.goos(), l.ManagedPath)
	if err != nil {
		return nil, err
	}
	if resolve(l.Defaults, m, nil).Locked(f) {
		return nil, fmt.Errorf("set %s: %w", f, ErrLocked)
	}
	if err := ValidateFor(l.goos(), f, value); err != nil {
		return nil, fmt.Errorf("set %s: %w", f, err)
	}
	if f == ServerURL {
		if err := CheckServerURL(value, m.allowInsecure); err != nil {
			return nil, fmt.Errorf("set %s: %w", f, err)
		}
	}
	u, err := loadUser(l.goos(), l.UserPath)
	if err != nil {
		return nil, err
	}
	change(u)
	if err := writeUser(l.UserPath, u); err != nil {
		return nil, err
	}
	return resolve(l.Defaults, m, u), nil
}

// writeUser replaces the user file atomically (temp file, fsync, rename),
// readable by its owner only: it may hold an enrollment code.
func writeUser(path string, u layer) error {
	doc := make(map[string]string, len(u))
	for f, v := range u {
		doc[string(f)] = v
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("write config file %s: %w", path, err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write config file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("write config file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil && !isWindows() {
		tmp.Close()
		return fmt.Errorf("write config file %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write config file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write config file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config file %s: %w", path, err)
	}
	return nil
}
