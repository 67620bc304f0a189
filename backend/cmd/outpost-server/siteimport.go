package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// stdin is what --file - reads (tests replace it).
var stdin io.Reader = os.Stdin

// maxShownProblems caps the problems printed; the rest are counted.
const maxShownProblems = 50

// siteImport loads site data from a CSV file: every row is validated first,
// every problem reported as "line N: column: sentence" on stderr (exit 1,
// nothing written); otherwise one transaction writes the changed rows.
func siteImport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("site import", flag.ContinueOnError)
	db := fs.String("db", "", "database URL")
	site := fs.String("site", "", "site whose data the file holds")
	table := fs.String("table", "", "lines, products, people or site_settings")
	file := fs.String("file", "", "CSV file with a header row, or - for standard input")
	dryRun := fs.Bool("dry-run", false, "validate and count, write nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	reg := protocol.NewRegistry()
	var tables []string
	for _, t := range reg.Tables() {
		if cols, ok := server.ImportColumns(t); ok {
			tables = append(tables, fmt.Sprintf("%s (%s)", t.Name, strings.Join(cols, ",")))
		}
	}
	if *site == "" || *table == "" || *file == "" {
		return usageError{errors.New("site import needs --site, --table and --file")}
	}
	if t, ok := reg.Lookup(*table); !ok || !t.ManagerOnly {
		return usageError{fmt.Errorf("--table %q: want one of %s", printable(*table), strings.Join(tables, ", "))}
	}

	var in io.Reader
	name := *file
	if *file == "-" {
		in, name = stdin, "standard input"
	} else {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("open the import file: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Size() > server.MaxImportBytes {
			return fmt.Errorf("%s is %d MiB; an import file may hold at most %d MiB: split it", name, st.Size()>>20, server.MaxImportBytes>>20)
		}
		in = f
	}
	rows, problems, err := server.ParseSiteCSV(reg, *table, in)
	if errors.Is(err, server.ErrImportTooLarge) {
		return fmt.Errorf("%s: an import file may hold at most %d MiB: split it", name, server.MaxImportBytes>>20)
	}
	if err != nil {
		return err
	}

	ctx := context.Background()
	var res server.ImportResult
	if len(rows) > 0 || len(problems) == 0 {
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		eng := &server.Engine{Store: st, Registry: reg, Now: time.Now, MaxSkew: 5 * time.Minute}
		// With problems in the file already, the rows that parsed are
		// still checked against the site's data, so that one run reports
		// everything; nothing is written.
		res, err = eng.ImportSiteRows(ctx, *site, *table, rows, server.ImportOptions{DryRun: *dryRun || len(problems) > 0})
		var ie *server.ImportError
		switch {
		case errors.As(err, &ie):
			problems = append(problems, ie.Problems...)
		case errors.Is(err, server.ErrBadArgument):
			return usageError{err}
		case err != nil:
			return fmt.Errorf("import: %w", err)
		}
		if err == nil && len(problems) == 0 && !*dryRun && res.Imported > 0 {
			if devs, derr := st.ListDevices(ctx, *site); derr == nil && len(devs) == 0 {
				fmt.Fprintf(stderr, "note: site %q has no enrolled devices yet (check the spelling of --site)\n", printable(*site))
			}
		}
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
		for i, p := range problems {
			if i == maxShownProblems {
				fmt.Fprintf(stderr, "and %d more problems\n", len(problems)-i)
				break
			}
			fmt.Fprintln(stderr, printable(p.String()))
		}
		word := "problems"
		if len(problems) == 1 {
			word = "problem"
		}
		return fmt.Errorf("%s: %d %s; nothing was imported", name, len(problems), word)
	}
	if *dryRun {
		fmt.Fprintf(stdout, "would import %d rows (%d unchanged); nothing written (--dry-run)\n", res.Imported, res.Unchanged)
		return nil
	}
	fmt.Fprintf(stdout, "imported %d rows (%d unchanged)\n", res.Imported, res.Unchanged)
	return nil
}

// printable escapes what a terminal would interpret (control characters,
// bidirectional overrides, other invisible runes) in text from the file.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) || r == ' ' {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
