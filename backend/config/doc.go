// Package config resolves Outpost's settings from three layers:
//
//  1. the managed file, written by IT (an installer parameter, GPO, Intune,
//     Ansible, …) and readable by every user of the machine:
//     Windows %ProgramData%\Outpost\config.json,
//     macOS /Library/Application Support/Outpost/config.json,
//     Linux /etc/outpost/config.json;
//  2. the user file, written by the app when an operator changes a setting:
//     Windows %AppData%\Outpost\config.json,
//     macOS ~/Library/Application Support/Outpost/config.json,
//     Linux $XDG_CONFIG_HOME/outpost/config.json (default ~/.config/outpost);
//  3. defaults: the managed file's "defaults" object (pre-sets that an
//     operator may change), then the built-in defaults (all empty).
//
// Precedence, field by field: managed > user > defaults. A value the managed
// file sets at its top level is enforced: the user file cannot override it and
// the app shows it read-only. The managed "locked" list pins further fields
// (or "*" for all) that the managed file leaves unset: their user value is
// ignored and they keep their default, so an operator cannot set, say, a
// proxy of their own. Pre-sets in the managed "defaults" object sit below the
// user file: the operator starts from them and may change them.
//
// Files are strict: an unknown field, a value of the wrong type, an invalid
// URL or recovery key, or malformed JSON is an error that names the file and
// the field; a broken file never silently falls back to defaults. A missing
// file is not an error: it is an empty layer. Fields "locked" and "defaults",
// and the machine-wide fields recovery_public_key and kiosk_key_file, belong
// to the managed file only.
//
// The package is pure Go and does no I/O beyond reading and writing these
// two files (and the CA bundle, in RootCAs); paths are injectable for tests.
package config
