//go:build windows

package keychain

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// daclOf returns the SIDs the file's DACL allows anything to, and whether the
// DACL is protected from inheritance.
func daclOf(t *testing.T, path string) ([]*windows.SID, bool) {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatalf("GetNamedSecurityInfo %s: %v", path, err)
	}
	control, _, err := sd.Control()
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		t.Fatalf("%s has no DACL: %v", path, err)
	}
	var sids []*windows.SID
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			t.Fatal(err)
		}
		if ace.Header.AceType == windows.ACCESS_ALLOWED_ACE_TYPE {
			sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
			c, _ := sid.Copy()
			sids = append(sids, c)
		}
	}
	return sids, control&windows.SE_DACL_PROTECTED != 0
}

// setDACL gives path exactly these grants (no inheritance).
func setDACL(t *testing.T, path string, grants map[windows.WELL_KNOWN_SID_TYPE]windows.ACCESS_MASK, user windows.ACCESS_MASK) {
	t.Helper()
	var entries []windows.EXPLICIT_ACCESS
	add := func(sid *windows.SID, mask windows.ACCESS_MASK) {
		entries = append(entries, windows.EXPLICIT_ACCESS{
			AccessPermissions: mask, AccessMode: windows.GRANT_ACCESS, Inheritance: windows.NO_INHERITANCE,
			Trustee: windows.TRUSTEE{TrusteeForm: windows.TRUSTEE_IS_SID, TrusteeValue: windows.TrusteeValueFromSID(sid)},
		})
	}
	for typ, mask := range grants {
		sid, err := windows.CreateWellKnownSid(typ)
		if err != nil {
			t.Fatal(err)
		}
		add(sid, mask)
	}
	me, err := currentUser()
	if err != nil {
		t.Fatal(err)
	}
	add(me, user)
	acl, err := windows.ACLFromEntries(entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil); err != nil {
		t.Fatal(err)
	}
}

// aclsWork tells whether the file system keeps the DACL a program sets. Wine
// 8 does not: it ignores SetNamedSecurityInfo on files and derives their ACLs
// from the Unix mode bits (everyone may read unless the umask says not).
func aclsWork(t *testing.T) bool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	setDACL(t, path, map[windows.WELL_KNOWN_SID_TYPE]windows.ACCESS_MASK{windows.WinBuiltinUsersSid: windows.FILE_GENERIC_READ}, windows.GENERIC_ALL)
	users, _ := windows.CreateWellKnownSid(windows.WinBuiltinUsersSid)
	sids, _ := daclOf(t, path)
	for _, sid := range sids {
		if sid.Equals(users) {
			return true
		}
	}
	return false
}

const noACLs = "this file system ignores the ACLs a program sets (Wine 8 derives them from Unix mode bits); .github/workflows/windows.yml checks them on NTFS"

// TestKeyFileACL: a key file the app writes allows only SYSTEM, the
// Administrators and the account running the app, inheriting nothing; one
// that anyone else may read or write is refused, as a mode wider than 0600 is
// on Unix (issue 22: under C:\ProgramData every local user could read it).
func TestKeyFileACL(t *testing.T) {
	ctx := t.Context()
	me, err := currentUser()
	if err != nil {
		t.Fatal(err)
	}
	system, _ := windows.CreateWellKnownSid(windows.WinLocalSystemSid)
	admins, _ := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	real := aclsWork(t)

	t.Run("written private", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kiosk", "db.key")
		kf := NewKeyFile(path)
		if _, _, err := kf.GetOrCreate(ctx, false); err != nil {
			t.Fatal(err)
		}
		if err := kf.StageNext(ctx, make([]byte, KeySize)); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + NextSuffix, filepath.Dir(path)} {
			sids, protected := daclOf(t, p)
			if !protected && real {
				t.Errorf("%s: DACL inherits from its folder", p)
			}
			for _, sid := range sids {
				if !sid.Equals(me) && !sid.Equals(system) && !sid.Equals(admins) {
					t.Errorf("%s: DACL allows %s", p, sid)
				}
			}
			if len(sids) == 0 {
				t.Errorf("%s: DACL allows nobody", p)
			}
		}
		if _, err := kf.Candidates(ctx); err != nil {
			t.Fatalf("the app's own key file refused: %v", err)
		}
	})

	R := windows.ACCESS_MASK(windows.FILE_GENERIC_READ)
	W := windows.ACCESS_MASK(windows.FILE_GENERIC_WRITE)
	F := windows.ACCESS_MASK(windows.GENERIC_ALL)
	tests := []struct {
		name   string
		grants map[windows.WELL_KNOWN_SID_TYPE]windows.ACCESS_MASK
		want   error
	}{
		{"SYSTEM, Administrators, the user", map[windows.WELL_KNOWN_SID_TYPE]windows.ACCESS_MASK{
			windows.WinLocalSystemSid: F, windows.WinBuiltinAdministratorsSid: F}, nil},
		{"the user alone", nil, nil},
		{"Users may read", map[windows.WELL_KNOWN_SID_TYPE]windows.ACCESS_MASK{windows.WinBuiltinUsersSid: R}, ErrInsecureKeyFile},
		{"Everyone may read", map[windows.WELL_KNOWN_SID_TYPE]windows.ACCESS_MASK{windows.WinWorldSid: R}, ErrInsecureKeyFile},
		{"Authenticated Users may write", map[windows.WELL_KNOWN_SID_TYPE]windows.ACCESS_MASK{windows.WinAuthenticatedUserSid: W}, ErrInsecureKeyFile},
		{"Users may only see attributes", map[windows.WELL_KNOWN_SID_TYPE]windows.ACCESS_MASK{
			windows.WinBuiltinUsersSid: windows.FILE_READ_ATTRIBUTES | windows.SYNCHRONIZE}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !real {
				t.Skip(noACLs)
			}
			path := filepath.Join(t.TempDir(), "db.key")
			if err := os.WriteFile(path, []byte(EncodeKey(make([]byte, KeySize))+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			setDACL(t, path, tt.grants, F)
			_, err := NewKeyFile(path).Candidates(ctx)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Candidates: %v, want %v", err, tt.want)
			}
		})
	}
}
