-- 0010: a person's language (issue 21): a shared terminal shows the
-- language of whoever signs in. Synced site data like pin_hash (people,
-- 0005); nullable: a person without one sees the terminal's language.
-- A pull brings it: an upgraded app re-pulls from cursor 0 once.
ALTER TABLE people ADD COLUMN language TEXT;
