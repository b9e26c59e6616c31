package incident

// Typed errors carry what the sentence a responder reads needs, so the
// sentence is made from fields, never parsed out of an error string.

// NotFoundError says which incident does not exist (errors.Is ErrNotFound).
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string { return e.ID + ": " + ErrNotFound.Error() }

func (e *NotFoundError) Unwrap() error { return ErrNotFound }

func notFound(id string) error { return &NotFoundError{ID: id} }

// NoChangeError says why a change changed nothing (errors.Is ErrNoChange).
type NoChangeError struct{ Why string }

func (e *NoChangeError) Error() string { return e.Why + ": " + ErrNoChange.Error() }

func (e *NoChangeError) Unwrap() error { return ErrNoChange }

func noChange(why string) error { return &NoChangeError{Why: why} }
