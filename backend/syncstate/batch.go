package syncstate

// Batch is a push request persisted before its first send. Body is sent
// byte for byte on every retry until the server answers.
type Batch struct {
	ID        string
	Body      []byte
	Changes   int
	CreatedAt int64
}
