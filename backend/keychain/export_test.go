package keychain

import "os"

// MakePrivateForTest gives a key file a test wrote the permissions IT would
// give it: 0600, or on Windows an ACL for SYSTEM, the Administrators and the
// account running the tests (a temporary folder under Wine lets everyone
// read what it holds).
func MakePrivateForTest(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return privateFile(f)
}
