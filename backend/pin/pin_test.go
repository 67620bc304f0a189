package pin

import (
	"errors"
	"strings"
	"testing"
)

// cheap keeps the tests fast; the format and checks are the same.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash("4711", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "4711") {
		t.Fatalf("hash %q", h)
	}
	if err := Verify("4711", h); err != nil {
		t.Fatalf("right PIN: %v", err)
	}
	if err := Verify("4712", h); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong PIN: %v", err)
	}
	h2, _ := Hash("4711", cheap)
	if h2 == h {
		t.Fatal("two hashes of one PIN are equal: no salt")
	}
}

func TestDefaultParams(t *testing.T) {
	h, err := Hash("123456", Default)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify("123456", h); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		pin string
		ok  bool
	}{
		{"1234", true}, {"12345678901234567890123456789012", true},
		{"123", false}, {"", false}, {"12a4", false}, {"１２３４", false},
		{"123456789012345678901234567890123", false}, {"12 34", false},
	} {
		if err := Check(tc.pin); (err == nil) != tc.ok {
			t.Errorf("Check(%q) = %v", tc.pin, err)
		}
		if _, err := Hash(tc.pin, cheap); (err == nil) != tc.ok {
			t.Errorf("Hash(%q) = %v", tc.pin, err)
		}
	}
}

func TestVerifyBadHashes(t *testing.T) {
	for _, h := range []string{
		"", "plain", "$2a$10$abcdefghijklmnopqrstuu", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=999,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
	} {
		if err := Verify("1234", h); !errors.Is(err, ErrFormat) {
			t.Errorf("Verify(%q) = %v, want ErrFormat", h, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	h, _ := Hash("1234", cheap)
	f.Add("1234", h)
	f.Add("0000", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Fuzz(func(t *testing.T, p, h string) {
		// Decoding is what meets hostile input; hashing a costly
		// parameter set would only make the fuzzer slow.
		if prm, _, _, err := decode(h); err == nil && (prm.Memory > 1024 || prm.Time > 2) {
			return
		}
		err := Verify(p, h)
		if err != nil && !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrFormat) {
			t.Fatalf("Verify: unexpected error %v", err)
		}
	})
}
