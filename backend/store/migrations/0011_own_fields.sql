-- 0011 (local only): own changes carried by a later version (issue 15,
-- campaign seed 117). A version another device wrote that still holds this
-- device's own change (the server merged it in, or the writer saw it) is
-- this device's own accepted write too: when such a version replaces a row
-- at one of its own versions, the entry moves to it, with the people's
-- fields that are still this device's own values (JSON array; NULL = the
-- whole row, as 0009 wrote). While a local edit is not answered, its
-- entry is at version -1 with the fields it changed (the first edit of a
-- clean row starts the set, later ones add to it); the answer moves it to
-- the version the server made. After a timeline change the entry waits, at
-- version 0 and under the hlc the row was re-stamped with, for the
-- timeline pass: the row is clean again when the restored server holds
-- those fields, else those fields are pushed over the server's state on
-- base 0.
ALTER TABLE sync_own_versions ADD COLUMN fields TEXT;
ALTER TABLE sync_own_versions ADD COLUMN hlc TEXT;
