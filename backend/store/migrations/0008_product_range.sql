-- 0008: a product's plausible quantity range (issue 20): min_quantity and
-- max_quantity of one record, synced site data like unit (products, 0005).
-- Nullable: a product without a range keeps the entry form's default rule.
-- A pull brings them: an upgraded app re-pulls from cursor 0 once.
ALTER TABLE products ADD COLUMN min_quantity INTEGER;
ALTER TABLE products ADD COLUMN max_quantity INTEGER;
