//go:build windows

package keychain

import "io/fs"

// checkPrivate accepts any file: Windows permissions are ACLs that Go's file
// mode does not show. IT restricts the file's ACL to the app's user.
func checkPrivate(string, fs.FileMode) error { return nil }

// syncDir is a no-op: Windows cannot open a directory for fsync and
// MoveFileEx (os.Rename) is durable once it returns.
func syncDir(string) error { return nil }

func isWindows() bool { return true }
