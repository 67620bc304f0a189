package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/outpost-app/outpost/app"
)

// The page talks to the services the way the desktop window does: the real
// Wails runtime JS (runtime_prod_desktop.js of the pinned Wails version)
// makes window.go.app.* from the bindings map, posts each call through
// window.WailsInvoke (here: a fetch), and gets the answer through
// window.wails.Callback, which rejects with `new Error(answer.error)`. The
// answer is the dispatcher's CallbackMessage, built here as
// internal/frontend/dispatcher/calls.go builds it (wails_test.go compares the
// two byte for byte for every refusal shape).

// callbackMessage is Wails v2.16's dispatcher.CallbackMessage.
type callbackMessage struct {
	Result     interface{} `json:"result"`
	Err        any         `json:"error"`
	CallbackID string      `json:"callbackid"`
}

// errArgs is an argument the method cannot take; the dispatcher answers it
// with its own text, not through the ErrorFormatter.
type errArgs struct{ error }

// answer calls svc's method with the JSON arguments and returns the
// dispatcher's message for it.
func answer(svc any, method string, raw []json.RawMessage, callbackID string) callbackMessage {
	msg := callbackMessage{CallbackID: callbackID}
	result, err := invoke(svc, method, raw)
	var ae errArgs
	switch {
	case errors.As(err, &ae):
		msg.Err = ae.Error()
	case err != nil:
		msg.Err = app.FormatError(err)
	default:
		msg.Result = result
	}
	return msg
}

// invoke calls svc's method with the JSON arguments: its result, or its
// error.
func invoke(svc any, method string, raw []json.RawMessage) (any, error) {
	if svc == nil {
		return nil, errors.New("no such service")
	}
	m := reflect.ValueOf(svc).MethodByName(method)
	if !m.IsValid() {
		return nil, fmt.Errorf("no such method %s", method)
	}
	t := m.Type()
	if len(raw) != t.NumIn() {
		return nil, errArgs{fmt.Errorf("received %d arguments to method '%s', expected %d", len(raw), method, t.NumIn())}
	}
	args := make([]reflect.Value, t.NumIn())
	for i := range args {
		p := reflect.New(t.In(i))
		if err := json.Unmarshal(raw[i], p.Interface()); err != nil {
			return nil, errArgs{fmt.Errorf("error parsing arguments: %w", err)}
		}
		args[i] = p.Elem()
	}
	var result any
	for _, v := range m.Call(args) {
		if v.Type() == reflect.TypeFor[error]() {
			if !v.IsNil() {
				return nil, v.Interface().(error)
			}
			continue
		}
		result = v.Interface()
	}
	return result, nil
}

// bindingsMap is what Wails puts in window.wailsbindings: package → struct →
// method (the runtime only reads the names).
func bindingsMap(services map[string]any) string {
	structs := map[string]map[string]struct{}{}
	for name, svc := range services {
		ms := map[string]struct{}{}
		t := reflect.TypeOf(svc)
		for i := 0; i < t.NumMethod(); i++ {
			ms[t.Method(i).Name] = struct{}{}
		}
		structs[name] = ms
	}
	b, _ := json.Marshal(map[string]any{"app": structs})
	return string(b)
}

// wailsRuntime reads the pinned Wails version's desktop runtime from the Go
// module cache (root is the repository).
func wailsRuntime(root string) ([]byte, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/wailsapp/wails/v2")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("find the wails module: %w", err)
	}
	return os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "frontend", "runtime", "runtime_prod_desktop.js"))
}

// shimJS sets up what the desktop window gives the runtime before it runs:
// the bindings map and WailsInvoke; events arrive through
// window.wails.EventsNotify, as the window's Notify sends them.
func shimJS(services map[string]any) []byte {
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	bm, _ := json.Marshal(bindingsMap(services))
	return []byte(`(() => {
  window.wailsbindings = ` + string(bm) + `;
  window.WailsInvoke = (msg) => {
    if (msg[0] !== 'C') return; // logs, window and event calls: no window here
    const call = JSON.parse(msg.slice(1));
    const [, svc, method] = call.name.split('.');
    fetch('/call/' + svc + '/' + method + '?callbackID=' + encodeURIComponent(call.callbackID), {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(call.args),
    }).then((res) => res.text()).then((text) => window.wails.Callback(text));
  };
  const es = new EventSource('/events');
  es.onmessage = (e) => { const m = JSON.parse(e.data); window.wails.EventsNotify(JSON.stringify({ name: m.name, data: [m.data] })); };
})();
`)
}
