package app

// SiteService is bound into the WebView: the site's lines, products,
// people and settings. Everyone reads them; only a manager device, with a
// manager signed in when sign-in is required, changes them.
type SiteService struct {
	core *Core
	sync *SyncService
	sess *SessionService
}

// NewSiteService returns the site data service.
func NewSiteService(core *Core, sync *SyncService, sess *SessionService) *SiteService {
	return &SiteService{core: core, sync: sync, sess: sess}
}

var errNotYet = &Error{Code: CodeInternal, Message: "Site data is not available yet in this build."}

// Get returns the site's lists and settings and whether this device and
// person may change them.
func (s *SiteService) Get() (SiteData, error) {
	return SiteData{Lines: []Line{}, Products: []Product{}, People: []Person{}}, errNotYet
}

// SaveLine adds a line or updates the line with the same code.
func (s *SiteService) SaveLine(in LineInput) (Line, error) { return Line{}, errNotYet }

// SaveProduct adds a product or updates the product with the same code.
func (s *SiteService) SaveProduct(in ProductInput) (Product, error) { return Product{}, errNotYet }

// SavePerson adds a person or updates the person with the same badge id.
func (s *SiteService) SavePerson(in PersonInput) (Person, error) { return Person{}, errNotYet }

// SaveSettings replaces the site's settings.
func (s *SiteService) SaveSettings(in SiteSettingsInput) (SiteSettings, error) {
	return SiteSettings{}, errNotYet
}
