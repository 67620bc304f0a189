package main

import (
	"fmt"
	"math/rand/v2"
)

// runKnobs measures what each SQLCipher/SQLite knob buys against the
// encrypted baseline (base), one knob at a time.
//
// Knob and baseline runs alternate, writeRounds / readRounds times, and the
// report keeps the fastest of each: fsync-bound and cache-bound numbers swing
// by ±50% on a shared machine otherwise.
func runKnobs(rc *recorder, dir string, base, plain drvConfig, sz sizes, rng *rand.Rand, writeRounds, readRounds int) error {
	type insertCase struct {
		c      drvConfig
		single int
		group  int
	}
	with := func(name string, f func(*drvConfig)) drvConfig { c := base; c.name = name; f(&c); return c }
	plainWith := func(name string, f func(*drvConfig)) drvConfig { c := plain; c.name = name; f(&c); return c }

	// Writes: batch of sz.batch and single-row commits.
	writes := []insertCase{
		{base, sz.single / 5, 1},
		{plain, sz.single / 5, 1},
		{with("enc memsec ON", func(c *drvConfig) { c.memsec = true }), sz.single / 5, 1},
		{plainWith("plain memsec ON", func(c *drvConfig) { c.memsec = true }), sz.single / 5, 1},
		{with("enc cache 2 MiB (SQLite default)", func(c *drvConfig) { c.cacheKiB = 2000 }), sz.single / 5, 1},
		{with("enc cache 64 MiB", func(c *drvConfig) { c.cacheKiB = 64 << 10 }), sz.single / 5, 1},
		{with("enc cipher_page_size 1024", func(c *drvConfig) { c.pageSize = 1024 }), sz.single / 5, 1},
		{with("enc cipher_page_size 16384", func(c *drvConfig) { c.pageSize = 16384 }), sz.single / 5, 1},
		{with("enc unprepared statements", func(c *drvConfig) { c.unprepared = true }), sz.single / 5, 1},
		{with("enc synchronous NORMAL", func(c *drvConfig) { c.sync = "NORMAL" }), sz.single / 5, 1},
		{plainWith("plain synchronous NORMAL", func(c *drvConfig) { c.sync = "NORMAL" }), sz.single / 5, 1},
		{with("enc grouped 10 rows/tx", func(c *drvConfig) {}), sz.single, 10},
		{with("enc grouped 100 rows/tx", func(c *drvConfig) {}), sz.single, 100},
		{with("enc HMAC-SHA1 (cipher_hmac_algorithm)", func(c *drvConfig) { c.defaults = []string{"PRAGMA cipher_default_hmac_algorithm = HMAC_SHA1"} }), sz.single / 5, 1},
		{with("enc no HMAC (cipher_use_hmac OFF)", func(c *drvConfig) { c.defaults = []string{"PRAGMA cipher_default_use_hmac = OFF"} }), sz.single / 5, 1},
	}
	var rounds []insertCase
	for r := 0; r < writeRounds; r++ {
		rounds = append(rounds, writes...)
	}
	for _, w := range rounds {
		p := dir + "/knob.db"
		removeDB(p)
		db, err := w.c.open(p)
		if err != nil {
			return fmt.Errorf("%s: %w", w.c.name, err)
		}
		ids := newIDs(sz.batch + w.single)
		if w.group == 1 {
			if err := rc.time("knob", w.c.name, "insert_batch", 1, sz.batch, "", func() error {
				return insertRows(db, ids, 0, sz.batch, 0, 0, w.c.unprepared)
			}); err != nil {
				return err
			}
		}
		op := "insert_single_tx"
		if w.group > 1 {
			op = fmt.Sprintf("insert_grouped_%d", w.group)
		}
		if err := rc.time("knob", w.c.name, op, w.single/w.group, w.single, "synchronous="+w.c.sync, func() error {
			return insertRows(db, ids, sz.batch, sz.batch+w.single, w.group, 0, w.c.unprepared)
		}); err != nil {
			return err
		}
		db.Close()
		removeDB(p)
	}

	// Reads need the big table: build it once per page size.
	type readCase struct{ c drvConfig }
	byPage := map[int][]readCase{
		0: {
			{base},
			{with("enc memsec ON", func(c *drvConfig) { c.memsec = true })},
			{with("enc cache 2 MiB (SQLite default)", func(c *drvConfig) { c.cacheKiB = 2000 })},
			{with("enc cache 64 MiB", func(c *drvConfig) { c.cacheKiB = 64 << 10 })},
			{with("enc cache 256 MiB", func(c *drvConfig) { c.cacheKiB = 256 << 10 })},
			{with("enc unprepared statements", func(c *drvConfig) { c.unprepared = true })},
		},
		16384: {{with("enc cipher_page_size 16384", func(c *drvConfig) { c.pageSize = 16384 })}},
		1024:  {{with("enc cipher_page_size 1024", func(c *drvConfig) { c.pageSize = 1024 })}},
		1:     {{with("enc HMAC-SHA1 (cipher_hmac_algorithm)", func(c *drvConfig) { c.defaults = []string{"PRAGMA cipher_default_hmac_algorithm = HMAC_SHA1"} })}},
		2:     {{with("enc no HMAC (cipher_use_hmac OFF)", func(c *drvConfig) { c.defaults = []string{"PRAGMA cipher_default_use_hmac = OFF"} })}},
	}
	for _, ps := range []int{0, 16384, 1024, 1, 2} {
		cases := byPage[ps]
		p := dir + "/knob-big.db"
		removeDB(p)
		db, err := cases[0].c.withCache(fillCacheKiB).open(p)
		if err != nil {
			return err
		}
		big := newIDs(sz.big)
		if err := insertRows(db, big, 0, sz.big, 0, sz.big/sz.pending, false); err != nil {
			db.Close()
			return err
		}
		db.Close()
		if ps != 0 {
			// Proof that the knob took: the baseline cannot read this file.
			if err := readable(base, p); err == nil {
				return fmt.Errorf("%s: the baseline reads the file, the knob did not apply", cases[0].c.name)
			}
		}
		for r := 0; r < readRounds; r++ {
			for _, rcase := range cases {
				if err := knobReads(rc, rcase.c, p, big, sz, rng); err != nil {
					return err
				}
			}
		}
		removeDB(p)
	}

	// Opening a connection: raw key vs a passphrase (PBKDF2-HMAC-SHA512,
	// 256k iterations in SQLCipher 4).
	p := dir + "/knob-open.db"
	removeDB(p)
	defer removeDB(p)
	for _, c := range []drvConfig{
		base,
		with("enc passphrase key (KDF)", func(c *drvConfig) { c.passphrase = "correct horse battery staple" }),
	} {
		removeDB(p)
		const opens = 5
		if err := rc.time("knob", c.name, "open_connection", opens, opens, "open + first query", func() error {
			for i := 0; i < opens; i++ {
				db, err := c.open(p)
				if err != nil {
					return err
				}
				var n int
				if err := db.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
					return err
				}
				db.Close()
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// knobReads measures cold and cached point reads and the pending query for c.
func knobReads(rc *recorder, c drvConfig, p string, big []string, sz sizes, rng *rand.Rand) error {
	db, err := c.open(p)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := rc.time("knob", c.name, "point_read_cold", sz.reads, sz.reads, "", func() error {
		return pointReads(db, big, sz.reads, c.unprepared, rng)
	}); err != nil {
		return err
	}
	st, err := db.Prepare(pendingSQL)
	if err != nil {
		return err
	}
	defer st.Close()
	pendingRead(st)
	const reps = 100
	if err := timePendingQuery(rc, "knob", c.name, reps, sz.pending, "", st); err != nil {
		return err
	}
	hot := big[:sz.hot]
	if err := pointReads(db, hot, sz.hot*3, c.unprepared, rng); err != nil {
		return err
	}
	return rc.time("knob", c.name, "point_read_cached", sz.reads, sz.reads, "", func() error {
		return pointReads(db, hot, sz.reads, c.unprepared, rng)
	})
}

// readable reports whether c can read the database at p.
func readable(c drvConfig, p string) error {
	c.noSchema = true
	db, err := c.open(p)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	return db.QueryRow("SELECT count(*) FROM production_records").Scan(&n)
}
