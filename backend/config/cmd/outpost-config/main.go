// Command outpost-config checks Outpost's configuration files the way the app
// reads them, so IT can validate a config.json before rolling it out:
//
//	outpost-config check                       # this machine's managed and user files
//	outpost-config check --managed FILE [--user FILE] [--os windows]
//	outpost-config paths                       # where the files are on this OS
//	outpost-config version
//
// check prints the resolved settings (secrets redacted), one per line with
// their source and lock, and exits 0; a broken file prints the error, naming
// the file and field, and exits 1. It is pure Go: no database, no keychain.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/internal/cli"
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  outpost-config check [--managed FILE] [--user FILE] [--os windows|darwin|linux]
  outpost-config paths
  outpost-config version
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "check":
		return check(args[1:], stdout, stderr)
	case "paths":
		user, err := config.UserPath()
		if err != nil {
			user = "(" + err.Error() + ")"
		}
		fmt.Fprintf(stdout, "managed %s\nuser    %s\n", config.ManagedPath(), user)
		return 0
	default:
		return cli.Builtin("outpost-config", version, usage, args[0], stdout, stderr)
	}
}

func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	managed := fs.String("managed", "", "managed file (default: this OS's)")
	user := fs.String("user", "", "user file (default: this user's; none when --managed is given)")
	goos := fs.String("os", "", "check paths as on this OS: windows, darwin or linux (default: this one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	l, err := config.NewLoader()
	if err != nil && *managed == "" {
		fmt.Fprintf(stderr, "outpost-config: %v\n", err)
		return 1
	}
	if l == nil {
		l = &config.Loader{}
	}
	if *managed != "" {
		l.ManagedPath, l.UserPath = *managed, ""
	}
	if *user != "" {
		l.UserPath = *user
	}
	l.GOOS = *goos
	s, err := l.Load()
	if err != nil {
		fmt.Fprintf(stderr, "outpost-config: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "managed file: %s\nuser file:    %s\n", orNone(l.ManagedPath), orNone(l.UserPath))
	for _, st := range s.States() {
		v := fmt.Sprintf("%q", st.Value)
		if st.Secret && st.Value != "" {
			v = "(set)"
		}
		lock := ""
		if st.Locked {
			lock = ", locked"
		}
		fmt.Fprintf(stdout, "%-20s %s  (%s%s)\n", st.Field, v, st.Source, lock)
	}
	return 0
}

func orNone(p string) string {
	if p == "" {
		return "(none)"
	}
	return p
}
