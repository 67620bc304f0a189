package app

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// The WebView's sync types carry every field of the backend's, under the
// camelCase spelling of its name: a field added to syncclient.Status (or
// the quarantine, or the settings fields) and not to app's type fails here
// instead of silently never reaching the screens.
func TestSyncTypes_CarryEveryBackendField(t *testing.T) {
	var st syncclient.Status
	fill(reflect.ValueOf(&st).Elem(), new(int))
	sameFields(t, st, syncStatusView(st))

	var q store.QuarantinedRow
	fill(reflect.ValueOf(&q).Elem(), new(int))
	sameFields(t, q, quarantinedRowView(q, q.Row))

	var f config.FieldState
	fill(reflect.ValueOf(&f).Elem(), new(int))
	got := settingFieldsView([]config.FieldState{f})
	if len(got) != 1 {
		t.Fatalf("settingFieldsView gave %d fields for 1", len(got))
	}
	sameFields(t, f, got[0])
	if v := settingFieldsView(nil); v == nil {
		t.Error("settingFieldsView(nil) is nil; the screen expects a list")
	}
}

// fill gives every field of v a distinct non-zero value.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.String:
		v.SetString("s" + strings.Repeat("x", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		if e.Kind() == reflect.Interface {
			e.Set(reflect.ValueOf(float64(*n)))
		} else {
			fill(e, n)
		}
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// sameFields compares backend's and view's JSON, backend's names camelCased.
func sameFields(t *testing.T, backend, view any) {
	t.Helper()
	want := camelKeys(jsonOf(t, backend))
	if got := jsonOf(t, view); !reflect.DeepEqual(got, want) {
		t.Errorf("%T as %T:\n got %v\nwant %v", backend, view, got, want)
	}
}

func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// camelKeys renames the struct keys (snake_case to camelCase) of a decoded
// JSON value; the keys of "row" and "tables" are data, not names.
func camelKeys(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, e := range m {
		if k != "row" && k != "tables" {
			e = camelKeys(e)
		}
		out[camel(k)] = e
	}
	return out
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}
