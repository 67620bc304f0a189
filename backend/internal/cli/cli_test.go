package cli

import (
	"bytes"
	"testing"
)

func TestBuiltin(t *testing.T) {
	for _, tc := range []struct {
		word           string
		code           int
		stdout, stderr string
	}{
		{"version", 0, "tool 1.2\n", ""},
		{"--version", 0, "tool 1.2\n", ""},
		{"-version", 0, "tool 1.2\n", ""},
		{"help", 0, "usage: tool\n", ""},
		{"-h", 0, "usage: tool\n", ""},
		{"--help", 0, "usage: tool\n", ""},
		{"frobnicate", 2, "", "unknown command \"frobnicate\"\nusage: tool\n"},
	} {
		var out, errs bytes.Buffer
		code := Builtin("tool", "1.2", "usage: tool\n", tc.word, &out, &errs)
		if code != tc.code || out.String() != tc.stdout || errs.String() != tc.stderr {
			t.Errorf("%s: code %d, stdout %q, stderr %q; want %d, %q, %q", tc.word, code, out.String(), errs.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}
