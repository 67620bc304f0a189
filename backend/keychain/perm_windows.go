//go:build windows

package keychain

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// exposing are the rights that let someone read a key file, change it, or
// give themselves either.
const exposing = windows.FILE_READ_DATA | windows.FILE_WRITE_DATA | windows.FILE_APPEND_DATA |
	windows.GENERIC_READ | windows.GENERIC_WRITE | windows.GENERIC_ALL | windows.WRITE_DAC | windows.WRITE_OWNER

// checkPrivate refuses a key file whose ACL lets anyone but SYSTEM, the
// Administrators and the account running the app read or change it: the
// Windows form of the Unix mode check (a file under C:\ProgramData inherits
// read access for every local user).
func checkPrivate(path string, _ fs.FileMode) error {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("read the ACL of key file %s: %w", path, err)
	}
	me, trusted, err := trustedSIDs()
	if err != nil {
		return err
	}
	fix := fmt.Sprintf(`icacls "%s" /inheritance:r /grant:r *%s:F *%s:F *%s:F`, path, trusted[0], trusted[1], me)
	dacl, _, err := sd.DACL()
	if errors.Is(err, windows.ERROR_OBJECT_NOT_FOUND) || (err == nil && dacl == nil) {
		return fmt.Errorf("%w: %s has no ACL, so everyone may read it (run: %s)", ErrInsecureKeyFile, path, fix)
	}
	if err != nil {
		return fmt.Errorf("read the ACL of key file %s: %w", path, err)
	}
	var others []string
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return fmt.Errorf("read the ACL of key file %s: %w", path, err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0 ||
			ace.Mask&exposing == 0 {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if !isTrusted(sid, append([]*windows.SID{me}, trusted...)) {
			others = append(others, accountName(sid))
		}
	}
	if len(others) > 0 {
		return fmt.Errorf("%w: %s may be read or changed by %s; only SYSTEM, Administrators and %s may (run: %s)",
			ErrInsecureKeyFile, path, strings.Join(others, ", "), accountName(me), fix)
	}
	return nil
}

// makePrivate gives a key file (or its folder) an ACL of its own, inheriting
// nothing: full control for SYSTEM, the Administrators and the account
// running the app, no one else. A folder passes it on to what it holds.
func makePrivate(path string, dir bool) error {
	me, trusted, err := trustedSIDs()
	if err != nil {
		return err
	}
	inherit := uint32(windows.NO_INHERITANCE)
	if dir {
		inherit = windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT
	}
	var entries []windows.EXPLICIT_ACCESS
	for _, sid := range append(trusted, me) {
		entries = append(entries, windows.EXPLICIT_ACCESS{
			AccessPermissions: windows.GENERIC_ALL,
			AccessMode:        windows.GRANT_ACCESS,
			Inheritance:       inherit,
			Trustee: windows.TRUSTEE{
				TrusteeForm:  windows.TRUSTEE_IS_SID,
				TrusteeType:  windows.TRUSTEE_IS_UNKNOWN,
				TrusteeValue: windows.TrusteeValueFromSID(sid),
			},
		})
	}
	acl, err := windows.ACLFromEntries(entries, nil)
	if err != nil {
		return fmt.Errorf("make %s private: %w", path, err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil); err != nil {
		return fmt.Errorf("make %s private: %w", path, err)
	}
	return nil
}

// privateFile makes a temporary file private before the key is written to it.
func privateFile(f *os.File) error { return makePrivate(f.Name(), false) }

// mkdirPrivate creates dir and its parents; a folder it creates itself gets
// a private ACL (one IT made is left as IT made it).
func mkdirPrivate(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return makePrivate(dir, true)
}

// trustedSIDs returns the account running the app, then SYSTEM and the
// Administrators group.
func trustedSIDs() (*windows.SID, []*windows.SID, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, nil, fmt.Errorf("the account running the app: %w", err)
	}
	var trusted []*windows.SID
	for _, typ := range []windows.WELL_KNOWN_SID_TYPE{windows.WinLocalSystemSid, windows.WinBuiltinAdministratorsSid} {
		sid, err := windows.CreateWellKnownSid(typ)
		if err != nil {
			return nil, nil, fmt.Errorf("well-known SID: %w", err)
		}
		trusted = append(trusted, sid)
	}
	return tu.User.Sid, trusted, nil
}

func isTrusted(sid *windows.SID, trusted []*windows.SID) bool {
	for _, t := range trusted {
		if sid.Equals(t) {
			return true
		}
	}
	return false
}

// accountName is DOMAIN\name, or the SID when it names no account.
func accountName(sid *windows.SID) string {
	account, domain, _, err := sid.LookupAccount("")
	if err != nil {
		return sid.String()
	}
	if domain == "" {
		return account
	}
	return domain + `\` + account
}

// currentUser returns the SID of the account the app runs as.
func currentUser() (*windows.SID, error) {
	me, _, err := trustedSIDs()
	if err != nil {
		return nil, err
	}
	return me.Copy()
}

// syncDir is a no-op: Windows cannot open a directory for fsync and
// MoveFileEx (os.Rename) is durable once it returns.
func syncDir(string) error { return nil }
