package syncclient

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestSentence_Unauthorized (issue 15): a 401 tells the operator what
// happened and what to do without blaming IT vaguely: the work stays on
// this computer, and enrolling again with a new code sends it. A token the
// server does not know is also what a server restored from a backup older
// than the enrollment answers; a revoked device was removed on purpose.
// Both sentences keep the prefix the status bar recognises
// (frontend/src/lib/sync.ts lastErrorCodes: "unauthorized").
func TestSentence_Unauthorized(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want []string
		not  []string
	}{
		{"unknown token", fmt.Errorf("push: %w", &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "The device token is not known to this server; enroll the device again."}),
			[]string{"restored from a backup", "kept on this computer", "new enrollment code", "enroll"}, []string{"removed by IT"}},
		{"revoked", fmt.Errorf("pull: %w", &APIError{Status: http.StatusUnauthorized, Code: "device_revoked", Message: "revoked"}),
			[]string{"revoked", "kept on this computer", "new enrollment code"}, []string{"backup"}},
		{"bare sentinel", ErrUnauthorized, []string{"kept on this computer", "new enrollment code"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Sentence(c.err)
			if !strings.HasPrefix(got, "The sync server no longer accepts this computer") {
				t.Errorf("%q lost the prefix the status bar maps to its translation", got)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not say %q", got, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(got, w) {
					t.Errorf("%q says %q", got, w)
				}
			}
		})
	}
}
