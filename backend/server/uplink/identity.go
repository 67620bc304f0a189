package uplink

import (
	"context"
	"errors"
	"fmt"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// Identity is the hub's enrollment at central: the site it serves, its
// device id and token there, and central's address.
type Identity struct {
	Site, Device, Token, URL string
}

// LoadIdentity finds the hub's enrollment in its database: the one site
// holding one (a hub serves one site). ErrNotFound when it never enrolled.
func LoadIdentity(ctx context.Context, st server.Store) (Identity, error) {
	sites, err := st.Sites(ctx)
	if err != nil {
		return Identity{}, fmt.Errorf("list sites: %w", err)
	}
	for _, site := range sites {
		dev, err := st.Meta(ctx, site, server.MetaUpDevice)
		if errors.Is(err, server.ErrNotFound) {
			continue
		}
		if err != nil {
			return Identity{}, fmt.Errorf("read upstream enrollment: %w", err)
		}
		id := Identity{Site: site, Device: string(dev)}
		tok, err := st.Meta(ctx, site, server.MetaUpToken)
		if err != nil {
			return Identity{}, fmt.Errorf("read upstream token: %w", err)
		}
		url, err := st.Meta(ctx, site, server.MetaUpURL)
		if err != nil {
			return Identity{}, fmt.Errorf("read upstream address: %w", err)
		}
		id.Token, id.URL = string(tok), string(url)
		return id, nil
	}
	return Identity{}, server.ErrNotFound
}

// Enroll trades code for the hub's enrollment at central (url) and keeps it
// in the hub's database. A code for another role than hub is refused
// before anything is kept: central then has a device that never syncs,
// which its administrator revokes.
func Enroll(ctx context.Context, st server.Store, url, code, name string, opts syncclient.HTTPOptions) (Identity, error) {
	api, err := syncclient.NewAPI(url, "", opts)
	if err != nil {
		return Identity{}, fmt.Errorf("central's address: %w", err)
	}
	resp, err := api.Enroll(ctx, protocol.EnrollRequest{Code: code, DeviceName: name, Platform: "hub"})
	if err != nil {
		return Identity{}, fmt.Errorf("enroll at central: %w", err)
	}
	if resp.Role != protocol.RoleHub {
		return Identity{}, fmt.Errorf("enroll at central: the code is for a %s device, not a hub; make one with `outpost-server enroll --site %s --role hub`", resp.Role, resp.SiteID)
	}
	tx, err := st.Begin(ctx, resp.SiteID)
	if err != nil {
		return Identity{}, fmt.Errorf("keep upstream enrollment: %w", err)
	}
	defer tx.Rollback()
	for k, v := range map[string]string{server.MetaUpDevice: resp.DeviceID, server.MetaUpToken: resp.Token, server.MetaUpURL: url} {
		if err := tx.SetMeta(ctx, k, []byte(v)); err != nil {
			return Identity{}, fmt.Errorf("keep upstream enrollment: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Identity{}, fmt.Errorf("keep upstream enrollment: %w", err)
	}
	return Identity{Site: resp.SiteID, Device: resp.DeviceID, Token: resp.Token, URL: url}, nil
}
