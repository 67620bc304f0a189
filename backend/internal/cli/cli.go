// Package cli holds what Outpost's administration commands (outpost-server,
// outpost-config) share on their command line.
package cli

import (
	"fmt"
	"io"
)

// Builtin answers a first word that is none of the command's own: version
// and help (exit code 0), or an unknown command, named with the usage on
// stderr (2). name and version are the command's, e.g. "outpost-server"
// and its stamped version.
func Builtin(name, version, usage, word string, stdout, stderr io.Writer) int {
	switch word {
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, name, version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s", word, usage)
	return 2
}
