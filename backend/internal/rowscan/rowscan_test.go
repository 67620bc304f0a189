package rowscan

import (
	"errors"
	"reflect"
	"testing"

	"github.com/outpost-app/outpost/backend/checksum"
)

// fakeRows yields its rows, then err.
type fakeRows struct {
	rows [][]any
	i    int
	err  error
}

func (r *fakeRows) Next() bool { r.i++; return r.i <= len(r.rows) }
func (r *fakeRows) Err() error { return r.err }
func (r *fakeRows) Scan(dest ...any) error {
	row := r.rows[r.i-1]
	if len(row) != len(dest) {
		return errors.New("wrong number of columns")
	}
	for i, v := range row {
		reflect.ValueOf(dest[i]).Elem().Set(reflect.ValueOf(v))
	}
	return nil
}

func scanName(sc Scanner) (name string, err error) {
	err = sc.Scan(&name)
	return name, err
}

func TestAll(t *testing.T) {
	errRows := errors.New("connection lost")
	for _, tc := range []struct {
		name string
		rows *fakeRows
		want []string
		err  string
	}{
		{"no row is an empty slice, not nil", &fakeRows{}, []string{}, ""},
		{"rows in order", &fakeRows{rows: [][]any{{"a"}, {"b"}}}, []string{"a", "b"}, ""},
		{"a scan error stops", &fakeRows{rows: [][]any{{"a"}, {"b", "c"}}}, nil, "wrong number of columns"},
		{"the rows' error is returned", &fakeRows{rows: [][]any{{"a"}}, err: errRows}, []string{"a"}, "connection lost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := All(tc.rows, scanName)
			if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
				t.Fatalf("All error = %v, want %q", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("All = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestSums(t *testing.T) {
	got, err := Sums(&fakeRows{rows: [][]any{{"b1", int64(2), int64(-1)}, {"b2", int64(1), int64(5)}}})
	want := map[string]checksum.Sum{"b1": {Count: 2, Sum: 1<<64 - 1}, "b2": {Count: 1, Sum: 5}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Sums = %v, %v; want %v", got, err, want)
	}
	if got, err := Sums(&fakeRows{}); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Sums of no row = %#v, %v", got, err)
	}
}
