package incident

// Typed errors carry what the sentence a responder reads needs, so the
// sentence is made from fields, never parsed out of an error string.

// NotFoundError says which incident does not exist (errors.Is ErrNotFound).
type NotFoundError struct{ ID string }

func (n *NotFoundError) Error() string { return n.ID + ": " + ErrNotFound.Error() }

func (n *NotFoundError) Unwrap() error { return ErrNotFound }

func notFound(id string) error { return &NotFoundError{ID: id} }

// NoChangeError says why a change changed nothing (errors.Is ErrNoChange).
type NoChangeError struct{ Why string }

func (n *NoChangeError) Error() string { return n.Why + ": " + ErrNoChange.Error() }

func (n *NoChangeError) Unwrap() error { return ErrNoChange }

func noChange(why string) error { return &NoChangeError{Why: why} }
