package syncclient

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// putLine writes line L1 on d with fields f (its code and updated_by
// set), as the manager's Lines screen does, and returns the row's id: the
// re-edit-under-review restore tests share it.
func putLine(t *testing.T, d *device, f map[string]any) string {
	t.Helper()
	f["code"], f["updated_by"] = "L1", "B-01"
	r, err := d.st.PutSiteRow(context.Background(), protocol.TableLines, f)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID()
}

// editLine changes one field of line id on d, starting from the row as d
// holds it (a re-edit under review starts from theirs).
func editLine(t *testing.T, d *device, id, k string, v any) {
	t.Helper()
	cur, err := d.st.SiteRow(context.Background(), protocol.TableLines, id)
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]any{}
	for k, v := range cur.Fields {
		f[k] = v
	}
	delete(f, "created_at")
	delete(f, "updated_at")
	delete(f, "server_updated_at")
	f[k] = v
	putLine(t, d, f)
}
