package keychain

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"filippo.io/age"
)

// Recovery file: the database key wrapped (age-encrypted) with a site
// recovery public key, kept beside the database so IT can unlock the file
// with the matching private key when the keychain entry is lost.
const (
	RecoverySuffix = ".recovery.age"
	// EnvRecoveryRecipient names the environment variable (or managed config
	// value) holding the site recovery public key, "age1…". Read by main only.
	EnvRecoveryRecipient = "OUTPOST_RECOVERY_RECIPIENT"

	recoveryHeader = "# outpost database keys, hex, current first"
)

// RecoveryPath returns where the recovery file of the database at dbPath lives.
func RecoveryPath(dbPath string) string { return dbPath + RecoverySuffix }

// WriteRecovery replaces RecoveryPath(dbPath) with keys encrypted to
// recipient (one or more age recipients, "age1…", one a line). It writes a
// temp file, fsyncs it and renames it over the old one, so the file on disk
// always holds a key that opens the database. Rotation passes the old and the
// new key while both may be in use, then the new one alone.
func WriteRecovery(dbPath, recipient string, keys ...[]byte) error {
	recipients, err := ParseRecipients(recipient)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("write recovery file: no key given")
	}
	var plain strings.Builder
	plain.WriteString(recoveryHeader + "\n")
	for _, key := range keys {
		if err := checkKey(key); err != nil {
			return fmt.Errorf("write recovery file: %w", err)
		}
		plain.WriteString(EncodeKey(key) + "\n")
	}
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, recipients...)
	if err != nil {
		return fmt.Errorf("encrypt recovery file: %w", err)
	}
	if _, err := io.WriteString(w, plain.String()); err != nil {
		return fmt.Errorf("encrypt recovery file: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("encrypt recovery file: %w", err)
	}
	if err := writeFileAtomic(RecoveryPath(dbPath), sealed.Bytes()); err != nil {
		return fmt.Errorf("write recovery file: %w", err)
	}
	return nil
}

// ParseRecipients parses a site recovery public key: one or more age
// recipients ("age1…"), one a line, '#' comments allowed.
func ParseRecipients(s string) ([]age.Recipient, error) {
	recipients, err := age.ParseRecipients(strings.NewReader(s))
	if err != nil {
		return nil, fmt.Errorf("parse recovery public key: %w", err)
	}
	return recipients, nil
}

// ReadRecovery decrypts a recovery file with identities and returns its keys,
// current first.
func ReadRecovery(r io.Reader, identities ...age.Identity) ([][]byte, error) {
	plain, err := age.Decrypt(r, identities...)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, fmt.Errorf("decrypt recovery file: the identity is not the site recovery key it was written for: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("decrypt recovery file: %w", err)
	}
	var keys [][]byte
	lines := bufio.NewScanner(io.LimitReader(plain, 64<<10))
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, err := DecodeKey(line)
		if err != nil {
			return nil, fmt.Errorf("decrypt recovery file: %w", err)
		}
		if !containsKey(keys, key) {
			keys = append(keys, key)
		}
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("decrypt recovery file: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("decrypt recovery file: it holds no key")
	}
	return keys, nil
}

// ReadRecoveryFile reads RecoveryPath(dbPath) with the identities in the age
// identity file at identityPath (as written by age-keygen or
// outpost-recover --keygen).
func ReadRecoveryFile(dbPath, identityPath string) ([][]byte, error) {
	idFile, err := os.Open(identityPath)
	if err != nil {
		return nil, fmt.Errorf("open identity file: %w", err)
	}
	defer idFile.Close()
	identities, err := age.ParseIdentities(idFile)
	if err != nil {
		return nil, fmt.Errorf("parse identity file %s: %w", identityPath, err)
	}
	sealed, err := os.Open(RecoveryPath(dbPath))
	if err != nil {
		return nil, fmt.Errorf("open recovery file: %w", err)
	}
	defer sealed.Close()
	return ReadRecovery(sealed, identities...)
}

// GenerateRecoveryIdentity makes a new site recovery key pair. identityFile
// is the private key in age-keygen's file format, to keep offline with IT;
// recipient is the public key ("age1…") for the managed config.
func GenerateRecoveryIdentity(now time.Time) (identityFile, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", fmt.Errorf("generate recovery identity: %w", err)
	}
	recipient = id.Recipient().String()
	identityFile = fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", now.Format(time.RFC3339), recipient, id)
	return identityFile, recipient, nil
}
