package app

// The types below are what the WebView sees: Wails generates TypeScript
// classes from them (frontend/wailsjs/go/models.ts). They are kept apart from
// the store's types so the UI contract changes only when we mean it to.

// Record is one production record as the UI shows it.
type Record struct {
	ID         string `json:"id"`
	LineID     string `json:"lineId"`
	ProductID  string `json:"productId"`
	Quantity   int64  `json:"quantity"`
	OperatorID string `json:"operatorId"`
	// OperatorName is the display name of the person whose badge id is
	// OperatorID ("" when the site's people do not know it).
	OperatorName string `json:"operatorName"`
	// CreatedAt and UpdatedAt are ms since the Unix epoch, device clock.
	CreatedAt int64 `json:"createdAt"`
	UpdatedAt int64 `json:"updatedAt"`
	// DeletedAt is set (ms) on a soft-deleted record.
	DeletedAt *int64 `json:"deletedAt,omitempty"`
	// Pending is true while the server has not accepted the last local change.
	Pending bool `json:"pending"`
	// SyncState refines Pending: "awaiting_review" (the change met a
	// conflict a manager decides), "rejected" (needs attention), or "".
	SyncState string `json:"syncState,omitempty"`
}

// RecordInput holds the fields a person enters for a record.
type RecordInput struct {
	LineID     string `json:"lineId"`
	ProductID  string `json:"productId"`
	Quantity   int64  `json:"quantity"`
	OperatorID string `json:"operatorId"`
}

// Sort keys accepted by RecordFilter.Sort.
const (
	SortUpdatedAt  = "updated_at"
	SortCreatedAt  = "created_at"
	SortLine       = "line_id"
	SortProduct    = "product_id"
	SortOperator   = "operator_id"
	SortQuantity   = "quantity"
	defaultLimit   = 200
	maxRecordLimit = 1000
)

// RecordFilter selects and orders a page of records. Empty strings and zero
// times do not filter. From is inclusive, To exclusive (ms since the epoch,
// compared with created_at).
type RecordFilter struct {
	LineID     string `json:"lineId"`
	ProductID  string `json:"productId"`
	OperatorID string `json:"operatorId"`
	From       int64  `json:"from"`
	To         int64  `json:"to"`
	Sort       string `json:"sort"`
	Desc       bool   `json:"desc"`
	Offset     int    `json:"offset"`
	Limit      int    `json:"limit"`
}

// RecordPage is one page of a filtered list; Total counts every match.
type RecordPage struct {
	Records []Record `json:"records"`
	Total   int      `json:"total"`
	Offset  int      `json:"offset"`
}

// LineConfig is the configuration of one production line.
type LineConfig struct {
	ID                string   `json:"id"`
	LineID            string   `json:"lineId"`
	Recipe            string   `json:"recipe"`
	TargetRatePerHour *int64   `json:"targetRatePerHour,omitempty"`
	TemperatureC      *float64 `json:"temperatureC,omitempty"`
	SpeedRPM          *int64   `json:"speedRpm,omitempty"`
	Notes             *string  `json:"notes,omitempty"`
	CreatedAt         int64    `json:"createdAt"`
	UpdatedAt         int64    `json:"updatedAt"`
	Pending           bool     `json:"pending"`
	// SyncState: see Record.SyncState.
	SyncState string `json:"syncState,omitempty"`
}

// LineConfigInput holds the fields a person edits on a line configuration;
// nil clears an optional field.
type LineConfigInput struct {
	LineID            string   `json:"lineId"`
	Recipe            string   `json:"recipe"`
	TargetRatePerHour *int64   `json:"targetRatePerHour,omitempty"`
	TemperatureC      *float64 `json:"temperatureC,omitempty"`
	SpeedRPM          *int64   `json:"speedRpm,omitempty"`
	Notes             *string  `json:"notes,omitempty"`

	// updatedBy is the signed-in person's badge id, set by the service
	// (never by the WebView).
	updatedBy string
}

// Counts are the row counts the first screen shows.
type Counts struct {
	Records        int `json:"records"`
	DeletedRecords int `json:"deletedRecords"`
	LineConfigs    int `json:"lineConfigs"`
	Pending        int `json:"pending"`
}

// Status is the state of the app as the status screen and status bar show it.
type Status struct {
	Version       string `json:"version"`
	StoreOpen     bool   `json:"storeOpen"`
	Encrypted     bool   `json:"encrypted"`
	CipherVersion string `json:"cipherVersion"`
	DBPath        string `json:"dbPath"`
	KeySource     string `json:"keySource"`
	Counts        Counts `json:"counts"`
	// Sync describes the sync state in words.
	Sync string `json:"sync"`
	// Failure is set when the store could not be opened.
	Failure *Failure `json:"failure,omitempty"`
}

// Failure says why the store did not open and what to do about it.
type Failure struct {
	Code    string `json:"code"`
	Title   string `json:"title"`
	Message string `json:"message"`
	// Detail is the underlying error text, for IT.
	Detail string `json:"detail"`
}
