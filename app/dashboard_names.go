package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
)

// siteNames is what the dashboard and the exports write beside codes: the
// lines' and products' names, the products' units and the people's names,
// from the site data on this computer. A code the site does not list has
// no name (and a product no unit), never a guessed one.
type siteNames struct {
	lines    map[string]string
	products map[string]productInfo
	people   map[string]string
}

type productInfo struct{ name, unit string }

// namesReader reads what names the codes of a dashboard or an export.
type namesReader interface {
	siteReader
	PeopleNames(ctx context.Context) (map[string]string, error)
}

// readSiteNames reads the site's lines, products and people.
func readSiteNames(ctx context.Context, st namesReader) (siteNames, error) {
	n := siteNames{lines: map[string]string{}, products: map[string]productInfo{}}
	lines, err := st.SiteRows(ctx, protocol.TableLines)
	if err != nil {
		return n, fmt.Errorf("read line names: %w", err)
	}
	for _, r := range lines {
		n.lines[r.Text("code")] = r.Text("name")
	}
	products, err := st.SiteRows(ctx, protocol.TableProducts)
	if err != nil {
		return n, fmt.Errorf("read product names: %w", err)
	}
	for _, r := range products {
		n.products[r.Text("code")] = productInfo{name: r.Text("name"), unit: strings.TrimSpace(r.Text("unit"))}
	}
	if n.people, err = st.PeopleNames(ctx); err != nil {
		return n, fmt.Errorf("read people's names: %w", err)
	}
	return n, nil
}

func (n siteNames) line(code string) string { return n.lines[code] }

// product returns a product's name and unit ("" for either when unknown).
func (n siteNames) product(code string) (name, unit string) {
	p := n.products[code]
	return p.name, p.unit
}

func (n siteNames) unit(product string) string { return n.products[product].unit }

// person returns a badge's display name, else the badge id itself.
func (n siteNames) person(badge string) string {
	if name := n.people[badge]; name != "" {
		return name
	}
	return badge
}

// documentsDir is the folder a save dialog starts in: the person's
// Documents folder (on Linux the XDG one, which may be localised, such as
// ~/Dokumente), else their home folder. getenv reads the environment; home
// "" gives "" (the dialog's own default).
func documentsDir(goos, home string, getenv func(string) string) string {
	if home == "" {
		return ""
	}
	isDir := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.IsDir()
	}
	switch goos {
	case "windows":
		if p := getenv("USERPROFILE"); p != "" {
			home = p
		}
		return filepath.Join(home, "Documents")
	case "darwin":
		return filepath.Join(home, "Documents")
	}
	if d := xdgDocuments(home, getenv); d != "" && isDir(d) {
		return d
	}
	if d := filepath.Join(home, "Documents"); isDir(d) {
		return d
	}
	return home
}

// xdgDocuments reads XDG_DOCUMENTS_DIR from user-dirs.dirs ("" when unset).
func xdgDocuments(home string, getenv func(string) string) string {
	cfg := getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		cfg = filepath.Join(home, ".config")
	}
	b, err := os.ReadFile(filepath.Join(cfg, "user-dirs.dirs"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "XDG_DOCUMENTS_DIR=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		if rest, ok := strings.CutPrefix(v, "$HOME"); ok {
			v = home + rest
		}
		if filepath.IsAbs(v) {
			return filepath.Clean(v)
		}
	}
	return ""
}
