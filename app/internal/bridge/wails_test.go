package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/outpost-app/outpost/app"
)

// failing is a bound service whose method fails with a given error.
type failing struct{ errs map[string]error }

func (f *failing) Fail(name string) error { return f.errs[name] }

// TestAnswer_LikeTheWailsDispatcher: for every refusal shape the bridge
// answers the page byte for byte as Wails v2.16's real dispatcher answers the
// desktop window. frontend/e2e/wails-wire/run.sh sets OUTPOST_WIRE_IN (the
// real services' errors through app.FormatError) and OUTPOST_WIRE_ANSWERS
// (the real dispatcher's answers to a call failing with each).
func TestAnswer_LikeTheWailsDispatcher(t *testing.T) {
	in, answers := os.Getenv("OUTPOST_WIRE_IN"), os.Getenv("OUTPOST_WIRE_ANSWERS")
	if in == "" || answers == "" {
		t.Skip("run by frontend/e2e/wails-wire/run.sh")
	}
	var formatted, want map[string]string
	for f, v := range map[string]*map[string]string{in: &formatted, answers: &want} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	svc := &failing{errs: map[string]error{}}
	for name, s := range formatted {
		var e app.Error
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			t.Fatal(err)
		}
		svc.errs[name] = &e
	}
	if len(want) < 5 {
		t.Fatalf("only %d dispatcher answers", len(want))
	}
	for name, w := range want {
		arg, _ := json.Marshal(name)
		got, err := json.Marshal(answer(svc, "Fail", []json.RawMessage{arg}, "@@CALLBACK@@"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != w {
			t.Errorf("%s:\nbridge     %s\ndispatcher %s", name, got, w)
		}
	}
}

// TestAnswer_Shape: a failing call carries app.FormatError's text as the
// error, a successful one its result, each with the callback id.
func TestAnswer_Shape(t *testing.T) {
	svc := &failing{errs: map[string]error{"x": app.ErrNotFound}}
	arg, _ := json.Marshal("x")
	m := answer(svc, "Fail", []json.RawMessage{arg}, "cb-1")
	if m.CallbackID != "cb-1" || m.Err != app.FormatError(app.ErrNotFound) || m.Result != nil {
		t.Fatalf("failure: %+v", m)
	}
	arg, _ = json.Marshal("ok")
	if m := answer(svc, "Fail", []json.RawMessage{arg}, "cb-2"); m.Err != nil || m.CallbackID != "cb-2" {
		t.Fatalf("success: %+v", m)
	}
	if m := answer(svc, "Fail", nil, "cb-3"); m.Err == nil {
		t.Fatalf("wrong argument count: %+v", m)
	}
}
